/**
 * The dashboard as a Hono app: the middleware in the order a request meets it, the routes, and how each error
 * answers. Every answer is JSON except the page's files and the event stream.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { UnreachableError, UsageError } from '../shared/errors.ts';
import { RunStateError, UnknownRunError } from '../runs/errors.ts';
import { isLoopbackHost, loopbackHostOnly, sameOriginOnly, tokenRequired } from './access.ts';
import { RunEventStreams } from './events.ts';
import { requestPath, type NodeEnv } from './http.ts';
import { coverageRoutes } from './routes/coverage.ts';
import { daemonRoutes, metricsRoutes, probeRoutes } from './routes/daemon.ts';
import { healthRoutes } from './routes/health.ts';
import { pageRoutes } from './routes/pages.ts';
import { runStateOf, runsRoutes } from './routes/runs.ts';
import { sessionRoutes } from './routes/session.ts';
import { storeDayRoutes } from './routes/store-days.ts';
import { BackfillRunner } from './runner.ts';
import type { DashboardOptions } from './server.ts';

export interface DashboardApp {
  app: Hono<NodeEnv>;
  /** Stops the backfill (resumable) and ends the event streams. */
  shutdown(): Promise<void>;
}

export function createDashboardApp(options: DashboardOptions): DashboardApp {
  const { db, config, logger, token, daemon } = options;
  const concurrency = options.concurrency ?? config.concurrency;
  const runner = new BackfillRunner({ db, config, klkUrl: options.klkUrl, concurrency, logger });
  const state = runStateOf(db, runner);
  const streams = new RunEventStreams({ runner, state, logger });

  const app = new Hono<NodeEnv>();
  // Only these three: the page runs its own script and style, and nothing of another origin.
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        styleSrc: ["'self'"],
        scriptSrc: ["'self'"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
      xContentTypeOptions: true,
      referrerPolicy: 'no-referrer',
      crossOriginResourcePolicy: false,
      crossOriginOpenerPolicy: false,
      originAgentCluster: false,
      strictTransportSecurity: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xFrameOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    }),
  );
  // Figures are never kept by a cache; the page's files say otherwise.
  app.use(async (c, next) => {
    c.header('Cache-Control', 'no-store');
    await next();
  });
  app.use(loopbackHostOnly(isLoopbackHost(options.host)));
  app.route('/', pageRoutes());
  // Open to all: the health probes (the daemon's too: a service manager or the kubelet sends no token, and they tell
  // only whether it works), and the door where the page trades a typed token for its cookie.
  app.route('/api', healthRoutes(db, Boolean(daemon)));
  if (daemon) app.route('/', probeRoutes(db, daemon));
  app.route('/api', sessionRoutes(token));
  // What is registered after this needs the token, when one is set (sales figures are business secrets on a LAN),
  // and never comes from another site's page. Prometheus sends the token as a bearer (`authorization` in its scrape
  // config).
  if (token) app.use('/api/*', tokenRequired(token));
  app.use('/api/*', sameOriginOnly);
  app.route('/api', coverageRoutes({ db, config, defaults: options.window ?? {}, concurrency }));
  app.route('/api', runsRoutes({ db, config, runner, streams, state }));
  app.route('/api', storeDayRoutes({ db, config, daemon }));
  if (daemon) {
    if (token) app.use('/metrics', tokenRequired(token));
    app.use('/metrics', sameOriginOnly);
    app.route('/', metricsRoutes(daemon));
    app.route('/api', daemonRoutes(daemon));
  }

  app.notFound((c) => c.json({ error: `no existe ${requestPath(c)}` }, 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException)
      return error.res ? error.getResponse() : c.json({ error: error.message }, error.status);
    if (error instanceof UnknownRunError) return c.json({ error: error.message }, 404);
    if (error instanceof RunStateError) return c.json({ error: error.message }, 409);
    if (error instanceof UsageError) return c.json({ error: error.message }, 400);
    if (error instanceof UnreachableError) return c.json({ error: error.message }, 503);
    logger.error({ err: error, url: c.req.url }, 'error del tablero');
    return c.json({ error: `error interno: ${error.message}` }, 500);
  });

  return {
    app,
    async shutdown() {
      await runner.stop();
      await streams.endAll();
    },
  };
}
