import { Controller, Get, Req, Res } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sampleMetricsExporter } from './sample-metrics';

/** `GET /metrics`: every OpenTelemetry metric of the process (redstream's included) as Prometheus text. */
@Controller('metrics')
export class MetricsController {
  @Get()
  metrics(@Req() request: IncomingMessage, @Res() response: ServerResponse): void {
    sampleMetricsExporter().getMetricsRequestHandler(request, response);
  }
}
