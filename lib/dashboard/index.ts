// The dashboard (`@redstream/nestjs/dashboard`): a separate entry point, so that applications
// without it never load its page and routes.
export * from './interfaces/redstream-dashboard-options.interface';
export { RedstreamDashboardModule } from './redstream-dashboard.module';
export type { RedstreamDashboardRewindResult, RedstreamDashboardStatus } from './redstream-dashboard.service';
