//! The PostgreSQL schema, as numbered migrations. `appvet db init` applies
//! the ones a database lacks, each in its own transaction under an advisory
//! lock (two machines initialising at once wait for each other rather than
//! both creating tables); workers only check that the database is current.
//!
//! The result tables mirror the SQLite schema ([`crate::store::sqlite::SCHEMA`])
//! column for column, so the example queries read the same, with three
//! deliberate differences: flags are `boolean`, times are `bigint` seconds
//! as in SQLite, and the report and evidence blobs live in `app_blobs`, so
//! that restamping an `apps` row (rescore, a new policy) does not rewrite
//! them (PostgreSQL writes a whole new row version on every update).

use postgres::Client;

use super::super::{Error, Result};
use crate::policy::Policy;

/// Migrations in order; a database records the highest it has applied in
/// `schema_migrations`. Never edit one that has shipped: append another.
pub const MIGRATIONS: &[(i32, &str)] = &[(1, V1), (2, V2)];

/// The version this appvet writes.
pub fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// Any fixed number: the advisory lock key `db init` holds while migrating.
const MIGRATION_LOCK: i64 = 0x6170_7076_6574_0001;

const V1: &str = r#"
CREATE TABLE meta(key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE apps(
    sha256 text PRIMARY KEY,
    size bigint NOT NULL,
    kind text NOT NULL,
    platform text,
    package text,
    label text,
    version text,
    version_code text,
    min_sdk bigint,
    target_sdk bigint,
    tool_version text NOT NULL,
    signatures_version text NOT NULL,
    verdict text,
    spy_sensitive boolean,
    data_collection_score bigint,
    jurisdiction_score bigint,
    dex_files bigint NOT NULL,
    classes bigint NOT NULL,
    native_libs bigint NOT NULL,
    signing_verified boolean,
    diagnostic_errors bigint NOT NULL,
    scan_ms bigint,
    scanned_at bigint NOT NULL,
    policy text
);
CREATE INDEX apps_package ON apps(package);
CREATE INDEX apps_signatures_version ON apps(signatures_version);
CREATE TABLE app_blobs(
    sha256 text PRIMARY KEY REFERENCES apps(sha256) ON DELETE CASCADE,
    report bytea NOT NULL,
    evidence bytea NOT NULL
);
CREATE TABLE inputs(
    path text PRIMARY KEY,
    size bigint NOT NULL,
    mtime_ns bigint NOT NULL,
    sha256 text,
    status text NOT NULL,
    error text,
    tool_version text NOT NULL,
    signatures_version text NOT NULL,
    scanned_at bigint NOT NULL
);
CREATE INDEX inputs_sha256 ON inputs(sha256);
CREATE TABLE permissions(sha256 text NOT NULL, name text NOT NULL, protection text, source text);
CREATE INDEX permissions_sha256 ON permissions(sha256);
CREATE INDEX permissions_name ON permissions(name);
CREATE TABLE sdks(sha256 text NOT NULL, id text NOT NULL, name text, owner text, country text, categories text);
CREATE INDEX sdks_sha256 ON sdks(sha256);
CREATE INDEX sdks_country ON sdks(country);
CREATE TABLE hosts(
    sha256 text NOT NULL, host text NOT NULL, domain text, owner text, country text, evidence_total bigint);
CREATE INDEX hosts_sha256 ON hosts(sha256);
CREATE INDEX hosts_domain ON hosts(domain);
CREATE TABLE capabilities(sha256 text NOT NULL, id text NOT NULL, declared boolean NOT NULL, observed boolean NOT NULL);
CREATE INDEX capabilities_sha256 ON capabilities(sha256);
CREATE INDEX capabilities_id ON capabilities(id);
CREATE TABLE certificates(
    sha256 text NOT NULL, cert_sha256 text NOT NULL, subject text, issuer text,
    organization text, country text, debug boolean NOT NULL);
CREATE INDEX certificates_sha256 ON certificates(sha256);
CREATE TABLE diagnostics(sha256 text NOT NULL, level text NOT NULL, code text NOT NULL, message text, location text);
CREATE INDEX diagnostics_sha256 ON diagnostics(sha256);

-- The queue. One job per input path (kind 'scan') or per stored app to
-- re-attribute (kind 'rescore', target = its sha256). A job is 'queued',
-- 'running' (leased by a worker until lease_until, which the worker's
-- heartbeat pushes forward), 'done' or 'failed' (attempts ran out: the
-- worker died or hung on it every time; an error row says so).
CREATE TABLE jobs(
    id bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('scan', 'rescore')),
    target text NOT NULL,
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    -- The policy verdicts are given under (null: the worker's --policy).
    policy text,
    leased_by text,
    lease_until timestamptz,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    outcome text,
    error text,
    UNIQUE (kind, target)
);
-- What leasing reads: the oldest queued job, or a running one whose lease ran out.
CREATE INDEX jobs_queued ON jobs(id) WHERE state = 'queued';
CREATE INDEX jobs_running ON jobs(lease_until) WHERE state = 'running';
CREATE INDEX jobs_finished ON jobs(finished_at) WHERE state IN ('done', 'failed');

CREATE TABLE workers(
    id text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    threads integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now(),
    jobs_done bigint NOT NULL DEFAULT 0,
    stopped_at timestamptz
);

CREATE VIEW errors AS
    SELECT path, size, error, tool_version, signatures_version, scanned_at FROM inputs WHERE status = 'error';
CREATE VIEW progress AS
    SELECT kind, state, count(*) AS jobs, max(finished_at) AS last_finished FROM jobs GROUP BY kind, state;
CREATE VIEW verdict_counts AS
    SELECT policy, verdict, count(*) AS apps FROM apps GROUP BY policy, verdict;
CREATE VIEW top_domains AS
    SELECT domain, owner, country, count(DISTINCT sha256) AS apps
    FROM hosts WHERE domain IS NOT NULL GROUP BY domain, owner, country;
-- The countries of concern of every policy preset (`db init` fills it from
-- the presets it ships), for the views below.
CREATE TABLE concern_countries(policy text NOT NULL, country text NOT NULL, PRIMARY KEY (policy, country));
-- Apps with an SDK or a contacted host owned from a country of concern of
-- the policy their verdict was given under, that ask for location.
CREATE VIEW concern_location AS
    SELECT DISTINCT a.sha256, a.package, a.version, a.policy, p.kind AS party, p.name, p.owner, p.country
    FROM apps a
    JOIN (SELECT sha256, 'sdk' AS kind, name, owner, country FROM sdks
          UNION ALL SELECT sha256, 'host', host, owner, country FROM hosts) p ON p.sha256 = a.sha256
    JOIN concern_countries c ON c.policy = a.policy AND c.country = p.country
    WHERE EXISTS (SELECT 1 FROM permissions m WHERE m.sha256 = a.sha256 AND m.name IN
          ('android.permission.ACCESS_FINE_LOCATION', 'android.permission.ACCESS_COARSE_LOCATION',
           'android.permission.ACCESS_BACKGROUND_LOCATION'));
"#;

/// `concern_location` read Android's location permissions only: it now
/// reads the capability model, which maps Android permissions and iOS usage
/// descriptions (`NSLocationWhenInUseUsageDescription` ...) alike to the
/// `location` and `location_background` capabilities, and says which
/// platform the app is for.
const V2: &str = r#"
DROP VIEW concern_location;
-- Apps with an SDK or a contacted host owned from a country of concern of
-- the policy their verdict was given under, that ask for location (Android
-- permission or iOS usage description: a declared location capability).
CREATE VIEW concern_location AS
    SELECT DISTINCT a.sha256, a.platform, a.package, a.version, a.policy,
        p.kind AS party, p.name, p.owner, p.country
    FROM apps a
    JOIN (SELECT sha256, 'sdk' AS kind, name, owner, country FROM sdks
          UNION ALL SELECT sha256, 'host', host, owner, country FROM hosts) p ON p.sha256 = a.sha256
    JOIN concern_countries c ON c.policy = a.policy AND c.country = p.country
    WHERE EXISTS (SELECT 1 FROM capabilities k WHERE k.sha256 = a.sha256 AND k.declared
                  AND k.id IN ('location', 'location_background'));
"#;

/// Applies every migration the database lacks; returns the versions applied
/// (none when it was current). Safe to run again and from several machines.
pub fn init(client: &mut Client) -> Result<Vec<i32>> {
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations(version integer PRIMARY KEY, \
         applied_at timestamptz NOT NULL DEFAULT now())",
    )?;
    let mut applied = Vec::new();
    for (version, sql) in MIGRATIONS {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        let done = tx.query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[version])?.is_some();
        if !done {
            tx.batch_execute(sql)?;
            tx.execute("INSERT INTO schema_migrations(version) VALUES($1)", &[version])?;
            applied.push(*version);
        }
        tx.commit()?;
    }
    // The presets' countries of concern, refreshed on every init (a newer
    // appvet may ship other lists).
    let mut tx = client.transaction()?;
    for name in Policy::preset_names() {
        if let Some(policy) = Policy::preset(name) {
            tx.execute("DELETE FROM concern_countries WHERE policy = $1", &[&policy.name])?;
            for country in &policy.countries {
                tx.execute(
                    "INSERT INTO concern_countries(policy, country) VALUES($1, $2) ON CONFLICT DO NOTHING",
                    &[&policy.name, country],
                )?;
            }
        }
    }
    tx.commit()?;
    Ok(applied)
}

/// Fails unless the database is at this appvet's schema version (workers
/// and commands other than `db init` never migrate behind one's back).
pub fn check(client: &mut Client) -> Result<()> {
    let found: Option<i32> = match client.query_one("SELECT max(version) FROM schema_migrations", &[]) {
        Ok(row) => row.get(0),
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => None,
        Err(e) => return Err(e.into()),
    };
    match found {
        Some(v) if v == latest() => Ok(()),
        found => Err(Error::PgSchema { found, expected: latest() }),
    }
}
