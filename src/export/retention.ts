import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { StateStore } from '../state/types.js';
import { parseArchiveName } from './archive-name.js';

export type RetentionPolicy = Pick<Config['retention'], 'keepPerVolume' | 'maxAgeDays'>;
export type RetentionRule = 'keepPerVolume' | 'maxAgeDays';

export interface Deletion {
  name: string;
  volumeId: string;
  createdAt: string;
  rule: RetentionRule;
}

const DAY_MS = 86_400_000;

export function retentionEnabled(policy: RetentionPolicy): boolean {
  return policy.keepPerVolume > 0 || policy.maxAgeDays > 0;
}

/**
 * Which archives the policy deletes: per volume, everything after the newest `keepPerVolume`, and
 * everything older than `maxAgeDays` (the age rule is named when both apply). Names that are not
 * archive names are never touched; `busy` ones (a job reads them) are kept whatever the rules say.
 */
export function planRetention(names: readonly string[], policy: RetentionPolicy, now: Date, busy: ReadonlySet<string>): Deletion[] {
  const byVolume = new Map<string, { name: string; at: Date }[]>();
  for (const name of names) {
    const parsed = parseArchiveName(name);
    if (!parsed) continue;
    const list = byVolume.get(parsed.volumeId) ?? [];
    list.push({ name, at: parsed.createdAt });
    byVolume.set(parsed.volumeId, list);
  }
  const out: Deletion[] = [];
  for (const [volumeId, list] of byVolume) {
    // newest first; the same second (other compression) falls back to the name for a stable order
    list.sort((a, b) => b.at.getTime() - a.at.getTime() || (a.name < b.name ? 1 : -1));
    list.forEach((a, i) => {
      const tooOld = policy.maxAgeDays > 0 && now.getTime() - a.at.getTime() > policy.maxAgeDays * DAY_MS;
      const tooMany = policy.keepPerVolume > 0 && i >= policy.keepPerVolume;
      if ((!tooOld && !tooMany) || busy.has(a.name)) return;
      out.push({ name: a.name, volumeId, createdAt: a.at.toISOString(), rule: tooOld ? 'maxAgeDays' : 'keepPerVolume' });
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

export interface RetentionDeps {
  config: Pick<Config, 'exportDir' | 'retention'>;
  store: Pick<StateStore, 'listJobs'>;
  logger: Logger;
  now?: () => Date;
}

export interface Retention {
  /** Apply the policy now; with `dryRun` only say what would go. */
  apply(opts?: { dryRun?: boolean }): Promise<Deletion[]>;
  /** Run `apply` every `retention.sweepIntervalMs` while a rule is on; returns the stop function. */
  startSweep(): () => void;
}

export function createRetention(deps: RetentionDeps): Retention {
  const { exportDir, retention: policy } = deps.config;
  const log = deps.logger.child({ module: 'retention' });
  const now = deps.now ?? (() => new Date());
  let running: Promise<Deletion[]> | undefined;

  async function sweep(dryRun: boolean): Promise<Deletion[]> {
    if (!retentionEnabled(policy)) return [];
    const names = await readdir(exportDir);
    // an import reads its archive from its first pass to its last: it is kept until the job ends
    const jobs = await deps.store.listJobs({ unfinishedOnly: true });
    const busy = new Set(jobs.filter((j) => j.kind === 'volume-import' && j.params.fileName).map((j) => j.params.fileName!));
    const plan = planRetention(names, policy, now(), busy);
    if (dryRun) return plan;
    const done: Deletion[] = [];
    for (const d of plan) {
      try {
        await rm(join(exportDir, d.name), { force: true });
        await rm(join(exportDir, `${d.name}.sha256`), { force: true });
        log.info({ fileName: d.name, volumeId: d.volumeId, createdAt: d.createdAt, rule: d.rule, limit: policy[d.rule] },
          'archive deleted by retention');
        done.push(d);
      } catch (err) {
        log.error({ err, fileName: d.name, rule: d.rule }, 'could not delete archive');
      }
    }
    return done;
  }

  const apply = ({ dryRun = false } = {}): Promise<Deletion[]> => {
    // one sweep at a time (a periodic one and an operator's prune must not race over the same files)
    const next = (running ?? Promise.resolve([])).catch(() => []).then(() => sweep(dryRun));
    running = next;
    return next;
  };

  return {
    apply,
    startSweep() {
      if (!retentionEnabled(policy)) return () => {};
      const timer = setInterval(() => {
        apply().catch((err: unknown) => log.error({ err }, 'retention sweep failed'));
      }, policy.sweepIntervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
