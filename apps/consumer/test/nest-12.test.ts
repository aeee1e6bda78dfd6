/** NestJS 12 in a fresh project installed from our tarballs: see ./nest-scenario.ts. */
import { nestScenario } from './nest-scenario.js';

nestScenario(12);
