import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';
import { RedstreamConfigError, validateStreamName } from '../engine';
import { booleanOption, positiveMs } from '../engine/option-validation';
import type { RedstreamDashboardOptions } from './interfaces/redstream-dashboard-options.interface';
import {
  DEFAULT_DASHBOARD_CHART_WINDOW_MS,
  DEFAULT_DASHBOARD_PATH,
  DEFAULT_DASHBOARD_POLL_INTERVAL_MS,
} from './redstream-dashboard.constants';
import { DASHBOARD_NEEDS_GUARD, DASHBOARD_OPTION_INVALID } from './redstream-dashboard.messages';

/** The dashboard options with defaults filled in and every value checked. */
export interface ResolvedDashboardOptions {
  /** Leading slash, no trailing one: `/redstream`. */
  readonly path: string;
  readonly readOnly: boolean;
  readonly guard?: Type<CanActivate> | CanActivate;
  readonly imports: NonNullable<ModuleMetadata['imports']>;
  readonly streams?: readonly string[];
  readonly pollIntervalMs: number;
  readonly chartWindowMs: number;
}

// Path segments of letters, digits and - _ . ~: no parameters, wildcards or characters a
// router reads as syntax (Express and Fastify spell those differently).
const PATH = /^(\/[A-Za-z0-9\-_.~]+)+$/;

/** Checks the options before any route exists, so a mistake stops the application at bootstrap. */
export function resolveDashboardOptions(options: RedstreamDashboardOptions = {}): ResolvedDashboardOptions {
  if (typeof options !== 'object' || options === null) {
    throw new RedstreamConfigError(DASHBOARD_OPTION_INVALID('options', 'expected an object'));
  }
  const readOnly = booleanOption(options.readOnly, 'RedstreamDashboardModule: readOnly', true);
  const guard = options.guard;
  if (guard !== undefined && !isGuard(guard)) {
    throw new RedstreamConfigError(
      DASHBOARD_OPTION_INVALID('guard', 'expected a CanActivate class or an object with canActivate()'),
    );
  }
  if (!readOnly && guard === undefined) throw new RedstreamConfigError(DASHBOARD_NEEDS_GUARD());
  return {
    path: resolvePath(options.path),
    readOnly,
    guard,
    imports: options.imports ?? [],
    streams: options.streams?.map((stream) => validateStreamName(stream)),
    pollIntervalMs: positiveMs(
      options.pollIntervalMs ?? DEFAULT_DASHBOARD_POLL_INTERVAL_MS,
      'RedstreamDashboardModule: pollIntervalMs',
    ),
    chartWindowMs: positiveMs(
      options.chartWindowMs ?? DEFAULT_DASHBOARD_CHART_WINDOW_MS,
      'RedstreamDashboardModule: chartWindowMs',
    ),
  };
}

function resolvePath(path: unknown): string {
  if (path === undefined) return DEFAULT_DASHBOARD_PATH;
  if (typeof path !== 'string') throw new RedstreamConfigError(DASHBOARD_OPTION_INVALID('path', 'expected a string'));
  const normalized = `/${path.replace(/^\/+|\/+$/g, '')}`;
  if (!PATH.test(normalized)) {
    throw new RedstreamConfigError(
      DASHBOARD_OPTION_INVALID(
        'path',
        `${JSON.stringify(path)} is not a plain path (segments of letters, digits and - _ . ~, not the root)`,
      ),
    );
  }
  return normalized;
}

function isGuard(guard: unknown): guard is Type<CanActivate> | CanActivate {
  if (typeof guard === 'function') return typeof (guard.prototype as Partial<CanActivate>)?.canActivate === 'function';
  return (
    typeof guard === 'object' && guard !== null && typeof (guard as Partial<CanActivate>).canActivate === 'function'
  );
}
