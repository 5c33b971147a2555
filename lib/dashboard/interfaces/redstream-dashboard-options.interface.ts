import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';

/** Options of {@link RedstreamDashboardModule.forRoot}. */
export interface RedstreamDashboardOptions {
  /**
   * Where the page is served, on the application's own HTTP server (after any global prefix).
   * Its JSON lives under it: `<path>/api/status`. Default `/redstream`.
   */
  path?: string;
  /**
   * When true (the default), the page only shows; the replay and rewind endpoints answer 403
   * and the page has no buttons for them. False needs a `guard`.
   */
  readOnly?: boolean;
  /**
   * Who may see the dashboard and use its actions: a Nest guard class (built by Nest, with
   * its dependencies from `imports` or global modules) or instance. It guards every route of
   * the dashboard, the page and its JSON included; look at the request's method to let reads
   * through. Required when `readOnly` is false.
   */
  guard?: Type<CanActivate> | CanActivate;
  /** Modules that provide what a guard class injects, if they are not global. */
  imports?: ModuleMetadata['imports'];
  /** Only these streams; default every stream of the namespace (as `Redstream.status()`). */
  streams?: string[];
  /** How often the page asks for the status, in ms. Default 2000. */
  pollIntervalMs?: number;
  /** How far back the page's lag chart reaches, in ms (kept by the page while it is open). Default 10 minutes. */
  chartWindowMs?: number;
}
