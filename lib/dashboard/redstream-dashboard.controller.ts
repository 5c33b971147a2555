import {
  Body,
  Controller,
  ForbiddenException,
  Get,
  Header,
  Headers,
  HttpCode,
  Inject,
  Post,
  Req,
  Type,
  UnsupportedMediaTypeException,
  UseGuards,
} from '@nestjs/common';
import type { ReplayResult } from '../engine';
import { dashboardPage, DASHBOARD_SCRIPT, DASHBOARD_STYLES } from './page';
import { REDSTREAM_DASHBOARD_OPTIONS } from './redstream-dashboard.constants';
import { DASHBOARD_NEEDS_JSON, DASHBOARD_READ_ONLY } from './redstream-dashboard.messages';
import type { ResolvedDashboardOptions } from './redstream-dashboard-options.resolver';
import {
  RedstreamDashboardRewindResult,
  RedstreamDashboardService,
  RedstreamDashboardStatus,
} from './redstream-dashboard.service';

/** What the page handler reads of the request, the same on Express and Fastify. */
interface DashboardRequest {
  originalUrl?: string;
  url?: string;
}

// The page loads only its own script and style and talks only to its own API: nothing from
// elsewhere, no inline code, so it also runs under an application's strict CSP.
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * A controller at `options.path`, built per `forRoot` call because the path and the guard
 * are decorator arguments. Being a plain controller, it runs on whichever HTTP adapter the
 * application uses (Express or Fastify), after its global prefix, guards and filters.
 */
export function createDashboardController(options: ResolvedDashboardOptions): Type<unknown> {
  @Controller(options.path)
  class RedstreamDashboardController {
    constructor(
      private readonly dashboard: RedstreamDashboardService,
      @Inject(REDSTREAM_DASHBOARD_OPTIONS) private readonly settings: ResolvedDashboardOptions,
    ) {}

    @Get()
    @Header('Content-Type', 'text/html; charset=utf-8')
    @Header('Cache-Control', 'no-store')
    @Header('Content-Security-Policy', PAGE_CSP)
    @Header('X-Content-Type-Options', 'nosniff')
    page(@Req() request: DashboardRequest): string {
      // The URL the browser used (with any global prefix), so the page's links need no configuration.
      const base = (request.originalUrl ?? request.url ?? this.settings.path).split('?')[0].replace(/\/+$/, '');
      return dashboardPage({
        base,
        readOnly: this.settings.readOnly,
        pollIntervalMs: this.settings.pollIntervalMs,
        chartWindowMs: this.settings.chartWindowMs,
      });
    }

    @Get('dashboard.js')
    @Header('Content-Type', 'text/javascript; charset=utf-8')
    @Header('Cache-Control', 'no-cache')
    @Header('X-Content-Type-Options', 'nosniff')
    script(): string {
      return DASHBOARD_SCRIPT;
    }

    @Get('dashboard.css')
    @Header('Content-Type', 'text/css; charset=utf-8')
    @Header('Cache-Control', 'no-cache')
    @Header('X-Content-Type-Options', 'nosniff')
    styles(): string {
      return DASHBOARD_STYLES;
    }

    @Get('api/status')
    @Header('Cache-Control', 'no-store')
    status(): Promise<RedstreamDashboardStatus> {
      return this.dashboard.status();
    }

    @Post('api/replay-dead-letters')
    @HttpCode(200)
    @Header('Cache-Control', 'no-store')
    replayDeadLetters(
      @Headers('content-type') contentType: string | undefined,
      @Body() body: unknown,
    ): Promise<ReplayResult> {
      this.checkAction(contentType);
      return this.dashboard.replayDeadLetters(body);
    }

    @Post('api/rewind')
    @HttpCode(200)
    @Header('Cache-Control', 'no-store')
    rewind(
      @Headers('content-type') contentType: string | undefined,
      @Body() body: unknown,
    ): Promise<RedstreamDashboardRewindResult> {
      this.checkAction(contentType);
      return this.dashboard.rewind(body);
    }

    private checkAction(contentType: string | undefined): void {
      if (this.settings.readOnly) throw new ForbiddenException(DASHBOARD_READ_ONLY());
      // A cross-site form can post only form or text bodies; JSON needs a CORS preflight,
      // which keeps a guard that trusts cookies safe from forged requests.
      if (!/^application\/json\s*(;|$)/i.test(contentType ?? '')) {
        throw new UnsupportedMediaTypeException(DASHBOARD_NEEDS_JSON());
      }
    }
  }
  if (options.guard) UseGuards(options.guard)(RedstreamDashboardController);
  return RedstreamDashboardController;
}
