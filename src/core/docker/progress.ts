import type { EngineStreamMessage } from './jsonStream';

export interface LayerProgress {
  id: string;
  status: string;
  current: number;
  total: number;
}

/** What long engine work reports as it goes: a phase, per-layer progress, log lines. */
export interface ProgressReport {
  phase?: string;
  message?: string;
  /** 0..100 when known */
  percent?: number;
  layers?: LayerProgress[];
  log?: string;
}

export type ProgressListener = (report: ProgressReport) => void;

/** Folds the per-layer messages of a pull or push into overall progress. */
export class LayerProgressTracker {
  private readonly layers = new Map<string, LayerProgress>();

  update(m: EngineStreamMessage): ProgressReport {
    if (m.id && m.status && !/^(Pulling from|Digest|Status)/.test(m.status)) {
      const layer = this.layers.get(m.id) ?? { id: m.id, status: '', current: 0, total: 0 };
      layer.status = m.status;
      if (m.progressDetail?.total) {
        layer.total = m.progressDetail.total;
        layer.current = m.progressDetail.current ?? 0;
      }
      if (/complete|already exists|pushed|mounted/i.test(m.status) && layer.total) layer.current = layer.total;
      this.layers.set(m.id, layer);
    }
    const layers = [...this.layers.values()];
    const total = layers.reduce((s, l) => s + l.total, 0);
    const current = layers.reduce((s, l) => s + Math.min(l.current, l.total), 0);
    return {
      message: m.id ? `${m.id}: ${m.status ?? ''}` : m.status,
      percent: total > 0 ? Math.round((current / total) * 100) : undefined,
      layers,
    };
  }
}
