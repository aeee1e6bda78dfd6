import { DrillsterAuthHealthIndicator } from '@drillster-auth/nest/health';
import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult, HealthCheckService } from '@nestjs/terminus';

/** For a load balancer or Kubernetes probe: 503 with the error's code when no token can be had. */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(DrillsterAuthHealthIndicator) private readonly drillster: DrillsterAuthHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.drillster.isHealthy('drillster', { timeout: 3000 })]);
  }
}
