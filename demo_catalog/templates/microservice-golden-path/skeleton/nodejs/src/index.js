import Fastify from 'fastify';

const SERVICE_NAME = '${{ values.name }}';
const port = Number(process.env.PORT ?? 8080);

export function buildServer() {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } });
  let ready = true;

  // Liveness: the process is up.
  app.get('/healthz', async () => ({ status: 'ok', service: SERVICE_NAME }));

  // Readiness: false while shutting down, so Kubernetes stops sending traffic first.
  app.get('/readyz', async (request, reply) => {
    if (!ready) {
      return reply.code(503).send({ status: 'shutting-down' });
    }
    return { status: 'ready' };
  });

  app.get('/', async () => ({ service: SERVICE_NAME, message: 'Hello from the golden path' }));

  app.addHook('onClose', async () => {
    ready = false;
  });
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = buildServer();
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, async () => {
      app.log.info({ signal }, 'shutting down');
      await app.close();
      process.exit(0);
    });
  }
  await app.listen({ port, host: '0.0.0.0' });
}
