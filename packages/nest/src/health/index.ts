export {
  DEFAULT_HEALTH_CHECK_TIMEOUT,
  type DrillsterAuthHealthCheckOptions,
  DrillsterAuthHealthIndicator,
  type DrillsterAuthHealthResult,
} from './drillster-auth.health.js';
