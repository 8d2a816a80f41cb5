//! The job queue: a `jobs` table that workers lease from with
//! `FOR UPDATE SKIP LOCKED` (no two workers see the same row; none waits on
//! another's), and a lease each worker's heartbeat keeps alive. A worker
//! writes its results and marks the job done in one transaction, checking
//! it still holds the lease: a job is done exactly once whatever dies when.
//! A worker that dies stops heartbeating; its lease runs out and the next
//! worker to lease takes the job again, counting one more attempt. After
//! `max_attempts` the job fails with an error row instead of looping.

use std::time::Duration;

use super::Conn;
use crate::store::{Result, Versions};

/// Paths sent to the server per statement when enqueueing.
const ENQUEUE_CHUNK: usize = 10_000;

/// What a job asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Analyse the input at a path.
    Scan,
    /// Re-attribute and re-judge a stored app (by SHA-256) from its stored evidence.
    Rescore,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Scan => "scan",
            Kind::Rescore => "rescore",
        }
    }
}

/// A leased job.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: i64,
    pub kind: Kind,
    /// The input path, or the app's SHA-256.
    pub target: String,
    /// Leases so far, this one included.
    pub attempts: i32,
    /// The policy to judge under; `None`: the worker's.
    pub policy: Option<String>,
}

/// A leased job and what the database records of its input path (scan
/// jobs), read in the same round trip so that the worker needs no lookup
/// of its own to skip an input that is stored already.
#[derive(Clone, Debug)]
pub struct Leased {
    pub job: Job,
    pub path: Option<PathRecord>,
}

/// An `inputs` row, with the policy of the app it names.
#[derive(Clone, Debug)]
pub struct PathRecord {
    pub size: i64,
    pub mtime_ns: i64,
    pub status: String,
    pub tool_version: String,
    pub signatures_version: String,
    pub app_policy: Option<String>,
}

/// The `inputs` row a finished job writes.
pub struct InputRow<'a> {
    pub path: &'a str,
    pub size: u64,
    pub mtime_ns: i64,
    pub sha256: Option<&'a str>,
    /// `analysed`, `duplicate` or `error` (the job's error is the row's).
    pub status: &'a str,
    pub versions: &'a Versions,
}

/// What enqueueing did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Enqueued {
    /// Jobs not in the queue before.
    pub new: u64,
    /// Finished or failed jobs queued again.
    pub requeued: u64,
    /// Jobs already queued or running (left as they are).
    pub pending: u64,
}

impl Conn {
    /// Queues jobs (`targets`: paths or SHA-256s). A target already queued
    /// or running is left alone; a finished one is queued again (a worker
    /// then skips it if its results are current).
    pub fn enqueue(&mut self, kind: Kind, targets: &[String], policy: Option<&str>) -> Result<Enqueued> {
        let mut out = Enqueued::default();
        for chunk in targets.chunks(ENQUEUE_CHUNK) {
            let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
            // xmax = 0 tells a fresh insert from an update; targets that
            // matched a pending job return no row.
            let rows = self.query(
                "INSERT INTO jobs(kind, target, policy) SELECT $1, t, $3 FROM unnest($2::text[]) t \
                 ON CONFLICT (kind, target) DO UPDATE SET state = 'queued', attempts = 0, policy = excluded.policy, \
                 leased_by = NULL, lease_until = NULL, enqueued_at = now(), started_at = NULL, \
                 finished_at = NULL, outcome = NULL, error = NULL \
                 WHERE jobs.state IN ('done', 'failed') RETURNING (xmax = 0)",
                &[&kind.as_str(), &chunk, &policy],
            )?;
            let new = rows.iter().filter(|r| r.get::<_, bool>(0)).count() as u64;
            out.new += new;
            out.requeued += rows.len() as u64 - new;
            out.pending += (chunk.len() - rows.len()) as u64;
        }
        Ok(out)
    }

    /// Queues a rescore of every stored app not current under these
    /// signatures and this policy.
    pub fn enqueue_rescore(&mut self, signatures: &str, policy: &str) -> Result<Enqueued> {
        // One statement on the server: a store of 10^7 apps never passes
        // through this process.
        let row = self.query_opt(
            "WITH stale AS (SELECT sha256 FROM apps \
               WHERE signatures_version IS DISTINCT FROM $1 OR policy IS DISTINCT FROM $2), \
             queued AS (INSERT INTO jobs(kind, target, policy) SELECT 'rescore', sha256, $2 FROM stale \
               ON CONFLICT (kind, target) DO UPDATE SET state = 'queued', attempts = 0, policy = excluded.policy, \
               leased_by = NULL, lease_until = NULL, enqueued_at = now(), started_at = NULL, \
               finished_at = NULL, outcome = NULL, error = NULL \
               WHERE jobs.state IN ('done', 'failed') RETURNING (xmax = 0) AS new) \
             SELECT (SELECT count(*) FROM stale), count(*) FILTER (WHERE new), count(*) FROM queued",
            &[&signatures, &policy],
        )?;
        let (stale, new, queued): (i64, i64, i64) = row.map_or((0, 0, 0), |r| (r.get(0), r.get(1), r.get(2)));
        let n = |v: i64| v.max(0) as u64;
        Ok(Enqueued { new: n(new), requeued: n(queued - new), pending: n(stale - queued) })
    }

    /// Leases up to `max` jobs in one round trip: a running job whose
    /// lease ran out (its worker died) alone, else the oldest queued ones.
    /// An expired job comes alone so that one which stops its worker every
    /// time is retried with nothing else held beside it (jobs prefetched
    /// next to it lose an attempt at most once). Each scan job comes with
    /// what the database records of its path. Empty: nothing to do now.
    pub fn lease(&mut self, worker: &str, lease: Duration, max: usize) -> Result<Vec<Leased>> {
        let secs = lease.as_secs_f64();
        let max = i64::try_from(max.max(1)).unwrap_or(1);
        let rows = self.query(
            "WITH expired AS (SELECT id FROM jobs WHERE state = 'running' AND lease_until < now() \
               ORDER BY lease_until LIMIT 1 FOR UPDATE SKIP LOCKED), \
             queued AS (SELECT id FROM jobs WHERE state = 'queued' AND NOT EXISTS (SELECT 1 FROM expired) \
               ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED), \
             leased AS (UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, leased_by = $1, \
               lease_until = now() + make_interval(secs => $2), started_at = now() \
               WHERE j.id IN (SELECT id FROM expired UNION ALL SELECT id FROM queued) \
               RETURNING j.id, j.kind, j.target, j.attempts, j.policy) \
             SELECT l.id, l.kind, l.target, l.attempts, l.policy, i.size, i.mtime_ns, i.status, \
               i.tool_version, i.signatures_version, a.policy \
             FROM leased l LEFT JOIN inputs i ON l.kind = 'scan' AND i.path = l.target \
             LEFT JOIN apps a ON a.sha256 = i.sha256 ORDER BY l.id",
            &[&worker, &secs, &max],
        )?;
        Ok(rows
            .iter()
            .map(|r| Leased {
                job: Job {
                    id: r.get(0),
                    kind: if r.get::<_, &str>(1) == "rescore" { Kind::Rescore } else { Kind::Scan },
                    target: r.get(2),
                    attempts: r.get(3),
                    policy: r.get(4),
                },
                path: r.get::<_, Option<i64>>(5).map(|size| PathRecord {
                    size,
                    mtime_ns: r.get(6),
                    status: r.get(7),
                    tool_version: r.get(8),
                    signatures_version: r.get(9),
                    app_policy: r.get(10),
                }),
            })
            .collect())
    }

    /// Gives jobs this worker leased but did not start back to the queue,
    /// as if never leased (the attempt is not counted). Returns how many.
    pub fn give_back(&mut self, worker: &str, unstarted: &[i64]) -> Result<u64> {
        if unstarted.is_empty() {
            return Ok(0);
        }
        self.execute(
            "UPDATE jobs SET state = 'queued', attempts = greatest(attempts - 1, 0), leased_by = NULL, \
             lease_until = NULL, started_at = NULL WHERE id = ANY($2) AND leased_by = $1 AND state = 'running'",
            &[&worker, &unstarted],
        )
    }

    /// Puts every job this worker still holds back in the queue: the
    /// `unstarted` ones as never leased, the others (cut in progress by a
    /// stop) with their attempt counted. Its open transactions, if any
    /// commit later, find the lease gone and write nothing.
    pub fn release_all(&mut self, worker: &str, unstarted: &[i64]) -> Result<u64> {
        self.execute(
            "UPDATE jobs SET state = 'queued', leased_by = NULL, lease_until = NULL, started_at = NULL, \
             attempts = CASE WHEN id = ANY($2) THEN greatest(attempts - 1, 0) ELSE attempts END \
             WHERE leased_by = $1 AND state = 'running'",
            &[&worker, &unstarted],
        )
    }

    /// Pushes the leases of the jobs this worker holds forward and says it
    /// is alive. Returns how many leases it still held.
    pub fn heartbeat(&mut self, worker: &str, held: &[i64], lease: Duration) -> Result<u64> {
        let n = self.execute(
            "UPDATE jobs SET lease_until = now() + make_interval(secs => $3) \
             WHERE id = ANY($2) AND leased_by = $1 AND state = 'running'",
            &[&worker, &held, &lease.as_secs_f64()],
        )?;
        self.execute("UPDATE workers SET last_seen = now() WHERE id = $1", &[&worker])?;
        Ok(n)
    }

    /// Marks a leased job finished (`outcome`; `failed` fails it) and, with
    /// `input`, records its input path, in one statement (inside the
    /// caller's transaction when one is open). `false`: the lease was lost
    /// (it ran out and another worker took the job): nothing was written,
    /// and the caller must roll back what it wrote before.
    pub fn finish(
        &mut self,
        job: &Job,
        worker: &str,
        outcome: &str,
        error: Option<&str>,
        input: Option<InputRow>,
    ) -> Result<bool> {
        let state = if outcome == "failed" { "failed" } else { "done" };
        let input = input.as_ref();
        let row = self.query_opt(
            "WITH fin AS (UPDATE jobs SET state = $3, outcome = $4, error = $5, finished_at = now(), \
               lease_until = NULL WHERE id = $1 AND leased_by = $2 AND state = 'running' RETURNING id), \
             counted AS (UPDATE workers SET jobs_done = jobs_done + 1 WHERE id = $2 AND EXISTS (SELECT 1 FROM fin)), \
             i AS (INSERT INTO inputs(path, size, mtime_ns, sha256, status, error, tool_version, \
               signatures_version, scanned_at) SELECT $6::text, $7::bigint, $8::bigint, $9::text, $10::text, \
               $5::text, $11::text, $12::text, $13::bigint WHERE $6::text IS NOT NULL AND EXISTS (SELECT 1 FROM fin) \
               ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, \
               sha256 = excluded.sha256, status = excluded.status, error = excluded.error, \
               tool_version = excluded.tool_version, signatures_version = excluded.signatures_version, \
               scanned_at = excluded.scanned_at) \
             SELECT count(*) FROM fin",
            &[
                &job.id,
                &worker,
                &state,
                &outcome,
                &error.map(super::rows::no_nul),
                &input.map(|i| super::rows::no_nul(i.path)),
                &input.map(|i| i64::try_from(i.size).unwrap_or(i64::MAX)),
                &input.map(|i| i.mtime_ns),
                &input.and_then(|i| i.sha256),
                &input.map(|i| i.status),
                &input.map(|i| i.versions.tool.as_str()),
                &input.map(|i| i.versions.signatures.as_str()),
                &crate::store::now_secs(),
            ],
        )?;
        Ok(row.is_some_and(|r| r.get::<_, i64>(0) > 0))
    }

    /// Gives up on a job that has used up its attempts: an error row for
    /// its input, the job failed, in one statement.
    pub fn give_up(&mut self, job: &Job, worker: &str, v: &Versions) -> Result<bool> {
        let error = format!(
            "gave up after {} attempts: the worker stopped or its lease ran out each time",
            job.attempts - 1
        );
        let input = (job.kind == Kind::Scan).then(|| {
            let (size, mtime_ns) = std::fs::metadata(&job.target)
                .map(|m| (m.len(), crate::store::mtime_ns(&m)))
                .unwrap_or((0, 0));
            InputRow { path: &job.target, size, mtime_ns, sha256: None, status: "error", versions: v }
        });
        self.finish(job, worker, "failed", Some(&error), input)
    }

    /// Commits when `result` is `Ok(true)`, else rolls back.
    pub fn end(&mut self, result: Result<bool>) -> Result<bool> {
        match result {
            Ok(true) => {
                self.commit()?;
                Ok(true)
            }
            other => {
                self.rollback();
                other
            }
        }
    }

    /// Says a worker process has started (`id` unique per process).
    pub fn register_worker(&mut self, id: &str, host: &str, pid: u32, threads: usize) -> Result<()> {
        self.execute(
            "INSERT INTO workers(id, host, pid, threads) VALUES($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE \
             SET last_seen = now(), stopped_at = NULL",
            &[
                &id,
                &host,
                &i32::try_from(pid).unwrap_or(i32::MAX),
                &i32::try_from(threads).unwrap_or(i32::MAX),
            ],
        )?;
        Ok(())
    }

    /// Says a worker process has stopped of its own accord.
    pub fn stop_worker(&mut self, id: &str) -> Result<()> {
        self.execute("UPDATE workers SET stopped_at = now() WHERE id = $1", &[&id])?;
        Ok(())
    }

    /// Whether anything is queued or running (an `--exit-when-empty`
    /// worker stops when nothing is, including leases others hold: a job
    /// whose worker dies is then still taken up).
    pub fn pending_jobs(&mut self) -> Result<i64> {
        let row = self.query_opt("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')", &[])?;
        Ok(row.map_or(0, |r| r.get(0)))
    }

    /// Where the fleet stands.
    pub fn status(&mut self, window: Duration) -> Result<Status> {
        let mut s = Status::default();
        for r in self.query("SELECT kind, state, count(*) FROM jobs GROUP BY kind, state", &[])? {
            let n: i64 = r.get(2);
            let n = n.max(0) as u64;
            match r.get::<_, &str>(1) {
                "queued" => s.queued += n,
                "running" => s.running += n,
                "done" => s.done += n,
                _ => s.failed += n,
            }
        }
        let secs = window.as_secs_f64();
        let row = self.query_opt(
            "SELECT count(*) FROM jobs WHERE state IN ('done', 'failed') \
             AND finished_at > now() - make_interval(secs => $1)",
            &[&secs],
        )?;
        let recent: i64 = row.map_or(0, |r| r.get(0));
        s.rate = recent.max(0) as f64 / secs.max(1.0);
        s.eta = (s.rate > 0.0).then(|| Duration::from_secs_f64((s.queued + s.running) as f64 / s.rate));
        for r in self.query(
            "SELECT w.id, w.host, w.pid, w.threads, w.jobs_done, \
             extract(epoch FROM now() - w.last_seen)::float8, w.stopped_at IS NOT NULL, \
             (SELECT count(*) FROM jobs j WHERE j.leased_by = w.id AND j.state = 'running') \
             FROM workers w WHERE w.stopped_at IS NULL OR w.stopped_at > now() - interval '1 hour' ORDER BY w.id",
            &[],
        )? {
            s.workers.push(WorkerStatus {
                id: r.get(0),
                host: r.get(1),
                pid: r.get(2),
                threads: r.get(3),
                jobs_done: r.get(4),
                seen_secs_ago: r.get(5),
                stopped: r.get(6),
                running: r.get(7),
            });
        }
        Ok(s)
    }
}

/// What `appvet status` shows.
#[derive(Clone, Debug, Default)]
pub struct Status {
    pub queued: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
    /// Jobs finished per second over the window asked for.
    pub rate: f64,
    pub eta: Option<Duration>,
    pub workers: Vec<WorkerStatus>,
}

#[derive(Clone, Debug)]
pub struct WorkerStatus {
    pub id: String,
    pub host: String,
    pub pid: i32,
    pub threads: i32,
    pub jobs_done: i64,
    pub seen_secs_ago: f64,
    pub stopped: bool,
    /// Jobs it holds a lease on.
    pub running: i64,
}
