import { Registry, startOpsServer, type Logger } from '@jobline/libs';
import { clusterOps } from './cluster-ops';
import { createSupervisorMetrics, superviseWorkers } from './cluster-supervisor';
import type { ProducerConfig } from '../config';

/**
 * The primary of a producer with `PRODUCER_WORKERS` > 1: it holds no connection to Kafka, MongoDB or Redis, forks the
 * workers (which run the API), keeps them running and serves the ops port for all of them. Resolves with the exit
 * code once the workers have stopped.
 */
export async function runPrimary(config: ProducerConfig, logger: Logger): Promise<number> {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'producer' });
  const supervisor = superviseWorkers({
    workers: config.PRODUCER_WORKERS,
    logger,
    metrics: createSupervisorMetrics(registry),
    onAllListening: () =>
      logger.info('producer workers listening', {
        workers: config.PRODUCER_WORKERS,
        port: config.PORT,
        host: config.HOST,
        metricsPort: config.METRICS_PORT || null,
      }),
  });
  const { metrics, readiness } = clusterOps({ workers: () => supervisor.listeningWorkers(), registry });
  // Before forking: a taken ops port stops the start with no worker to clean up.
  const ops = await startOpsServer({
    port: config.METRICS_PORT,
    host: config.HOST,
    registry: metrics,
    readiness,
    logger,
  });
  supervisor.start();
  process.on('SIGTERM', () => void supervisor.stop('SIGTERM'));
  process.on('SIGINT', () => void supervisor.stop('SIGINT'));
  const code = await supervisor.done;
  await ops?.close();
  logger.info('producer workers stopped', { code });
  return code;
}
