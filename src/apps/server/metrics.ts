/** The server's Prometheus metrics (prom-client, one registry per server so that several can live in a process). */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'siglip_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'] as const, registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'siglip_http_request_duration_seconds',
    help: 'Time from request to response, by route',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'siglip_batch_size',
    help: 'Items per forward pass, by tower',
    labelNames: ['tower'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });
  readonly batchSeconds = new Histogram({
    name: 'siglip_batch_duration_seconds',
    help: 'Time of one forward pass (with upload and readback), by tower',
    labelNames: ['tower'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly items = new Counter({ name: 'siglip_items_total', help: 'Texts and images embedded, by tower', labelNames: ['tower'] as const, registers: [this.registry] });

  constructor(queueDepth: (tower: 'text' | 'vision' | 'decode') => number) {
    new Gauge({
      name: 'siglip_queue_depth',
      help: 'Items waiting: for a forward pass (text, vision) or for decoding (decode)',
      labelNames: ['tower'] as const,
      registers: [this.registry],
      collect() {
        for (const t of ['text', 'vision', 'decode'] as const) this.set({ tower: t }, queueDepth(t));
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'siglip_' });
  }
}
