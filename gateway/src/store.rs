//! Storage: SQLite database of users, call records and settings.
//!
//! One file, `gateway.sqlite3`, in the configured data directory, in WAL mode so that the
//! API can read call records while calls are being written. Every write is one statement or
//! one transaction: a record is either there whole or not at all.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// A storage error.
#[derive(Debug)]
pub struct StoreError(rusqlite::Error);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e)
    }
}

/// A user of the gateway (a WebRTC or SIP phone that registers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// User name.
    pub username: String,
    /// Digest password.
    #[serde(skip)]
    pub password: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Inbound numbers routed to the user.
    pub dids: Vec<String>,
}

/// One leg of a call record.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, Default)]
pub struct LegRecord {
    /// `webrtc`, `sip`, `trunk`, `echo`, `tone`.
    pub kind: String,
    /// Remote party URI or number.
    pub peer: String,
    /// Negotiated codec.
    pub codec: Option<String>,
    /// RTP packets received.
    pub packets_in: u64,
    /// RTP packets sent.
    pub packets_out: u64,
    /// Fraction of packets lost (0–1).
    pub loss: f64,
    /// Interarrival jitter in ms.
    pub jitter_ms: f64,
    /// MOS estimate (1–4.5).
    pub mos: Option<f64>,
}

/// A call record (CDR), written when a call ends.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct CallRecord {
    /// Row id (assigned by the database).
    pub id: i64,
    /// Gateway call id.
    pub call_id: String,
    /// `outbound` (user → trunk), `inbound` (trunk → user), `internal`, `test`.
    pub direction: String,
    /// Caller (number or user).
    pub from: String,
    /// Callee (number or user).
    pub to: String,
    /// Start (UNIX ms).
    pub started_ms: i64,
    /// Answer (UNIX ms), none when not answered.
    pub answered_ms: Option<i64>,
    /// End (UNIX ms).
    pub ended_ms: i64,
    /// Why it ended: `normal`, `cancelled`, `rejected 486`, `timeout`, `failed: …`.
    pub cause: String,
    /// Whether media was transcoded.
    pub transcoded: bool,
    /// Caller-side leg.
    pub a_leg: LegRecord,
    /// Callee-side leg.
    pub b_leg: LegRecord,
    /// DTMF digits seen on either leg (RFC 4733 or SIP INFO), in order, e.g. `5#12`
    /// (at most [`MAX_DTMF_DIGITS`]).
    pub dtmf: String,
}

/// The most DTMF digits a call record keeps (the rest are counted in the metrics only).
pub const MAX_DTMF_DIGITS: usize = 128;

/// Filter for listing call records.
#[derive(Debug, Clone, Default)]
pub struct CdrQuery {
    /// Substring of caller or callee.
    pub number: Option<String>,
    /// Started at or after (UNIX ms).
    pub since_ms: Option<i64>,
    /// Started before (UNIX ms).
    pub until_ms: Option<i64>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// The database.
pub struct Store {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password TEXT NOT NULL,
    display_name TEXT,
    dids TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cdrs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL UNIQUE,
    direction TEXT NOT NULL,
    caller TEXT NOT NULL,
    callee TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    answered_ms INTEGER,
    ended_ms INTEGER NOT NULL,
    cause TEXT NOT NULL,
    transcoded INTEGER NOT NULL,
    a_leg TEXT NOT NULL,
    b_leg TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cdrs_started ON cdrs(started_ms);
";

/// Brings a database written by an earlier version up to date: columns added since
/// [`SCHEMA`] first shipped are added when missing (SQLite has no `ADD COLUMN IF NOT
/// EXISTS`, so the table's columns are read first).
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let has_dtmf = {
        let mut st = conn.prepare("SELECT name FROM pragma_table_info('cdrs')")?;
        let names = st.query_map([], |r| r.get::<_, String>(0))?;
        names
            .collect::<rusqlite::Result<Vec<_>>>()?
            .iter()
            .any(|n| n == "dtmf")
    };
    if !has_dtmf {
        conn.execute_batch("ALTER TABLE cdrs ADD COLUMN dtmf TEXT NOT NULL DEFAULT ''")?;
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) `gateway.sqlite3` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, Box<dyn std::error::Error + Send + Sync>> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| format!("cannot create data directory {}: {e}", data_dir.display()))?;
        let conn = Connection::open(data_dir.join("gateway.sqlite3"))?;
        conn.execute_batch(SCHEMA)?;
        migrate(&conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        migrate(&conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent (every write is
        // atomic), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Inserts or replaces a user.
    pub fn put_user(&self, u: &User) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO users (username, password, display_name, dids) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(username) DO UPDATE SET password = ?2, display_name = ?3, dids = ?4",
            params![u.username, u.password, u.display_name, u.dids.join(",")],
        )?;
        Ok(())
    }

    fn row_to_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
        let dids: String = r.get(3)?;
        Ok(User {
            username: r.get(0)?,
            password: r.get(1)?,
            display_name: r.get(2)?,
            dids: dids
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }

    /// A user by name.
    pub fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT username, password, display_name, dids FROM users WHERE username = ?1",
                [username],
                Self::row_to_user,
            )
            .optional()?)
    }

    /// All users, by name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT username, password, display_name, dids FROM users ORDER BY username",
        )?;
        let rows = st.query_map([], Self::row_to_user)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A setting.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Sets a setting.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
            params![key, value],
        )?;
        Ok(())
    }

    /// Writes a call record; a second record with the same call id is ignored (so a
    /// supervisor writing a record for a crashed call task never duplicates one the task
    /// wrote itself). Returns whether the record was new.
    pub fn insert_cdr(&self, c: &CallRecord) -> Result<bool, StoreError> {
        let a = serde_json::to_string(&c.a_leg).unwrap_or_default();
        let b = serde_json::to_string(&c.b_leg).unwrap_or_default();
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO cdrs (call_id, direction, caller, callee, started_ms, answered_ms, ended_ms,
             cause, transcoded, a_leg, b_leg, dtmf)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                c.call_id,
                c.direction,
                c.from,
                c.to,
                c.started_ms,
                c.answered_ms,
                c.ended_ms,
                c.cause,
                c.transcoded,
                a,
                b,
                c.dtmf
            ],
        )?;
        Ok(n == 1)
    }

    /// Call records matching `q`, newest first.
    pub fn cdrs(&self, q: &CdrQuery) -> Result<Vec<CallRecord>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT id, call_id, direction, caller, callee, started_ms, answered_ms, ended_ms, cause, transcoded,
                    a_leg, b_leg, dtmf FROM cdrs
             WHERE (?1 IS NULL OR caller LIKE '%' || ?1 || '%' OR callee LIKE '%' || ?1 || '%')
               AND (?2 IS NULL OR started_ms >= ?2) AND (?3 IS NULL OR started_ms < ?3)
             ORDER BY started_ms DESC, id DESC LIMIT ?4",
        )?;
        let limit = if q.limit == 0 { 1000 } else { q.limit };
        let rows = st.query_map(params![q.number, q.since_ms, q.until_ms, limit], |r| {
            let a: String = r.get(10)?;
            let b: String = r.get(11)?;
            Ok(CallRecord {
                id: r.get(0)?,
                call_id: r.get(1)?,
                direction: r.get(2)?,
                from: r.get(3)?,
                to: r.get(4)?,
                started_ms: r.get(5)?,
                answered_ms: r.get(6)?,
                ended_ms: r.get(7)?,
                cause: r.get(8)?,
                transcoded: r.get(9)?,
                a_leg: serde_json::from_str(&a).unwrap_or_default(),
                b_leg: serde_json::from_str(&b).unwrap_or_default(),
                dtmf: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdr(call_id: &str, from: &str, to: &str, started: i64) -> CallRecord {
        CallRecord {
            call_id: call_id.into(),
            direction: "outbound".into(),
            from: from.into(),
            to: to.into(),
            started_ms: started,
            answered_ms: Some(started + 1000),
            ended_ms: started + 5000,
            cause: "normal".into(),
            transcoded: true,
            a_leg: LegRecord {
                kind: "webrtc".into(),
                codec: Some("opus".into()),
                mos: Some(4.3),
                ..Default::default()
            },
            b_leg: LegRecord {
                kind: "trunk".into(),
                codec: Some("PCMU".into()),
                packets_in: 250,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn users_round_trip() {
        let s = Store::in_memory().unwrap();
        let u = User {
            username: "alice".into(),
            password: "pw".into(),
            display_name: None,
            dids: vec!["+1555".into()],
        };
        s.put_user(&u).unwrap();
        assert_eq!(s.user("alice").unwrap(), Some(u.clone()));
        s.put_user(&User {
            password: "pw2".into(),
            ..u
        })
        .unwrap();
        assert_eq!(s.user("alice").unwrap().unwrap().password, "pw2");
        assert_eq!(s.users().unwrap().len(), 1);
        assert_eq!(s.user("bob").unwrap(), None);
    }

    #[test]
    fn cdrs_query_and_dedup() {
        let s = Store::in_memory().unwrap();
        assert!(
            s.insert_cdr(&cdr("c1", "alice", "+15551234", 1_000))
                .unwrap()
        );
        assert!(
            !s.insert_cdr(&cdr("c1", "alice", "+15551234", 1_000))
                .unwrap(),
            "same call id twice"
        );
        assert!(s.insert_cdr(&cdr("c2", "bob", "+4420", 2_000)).unwrap());
        let all = s.cdrs(&CdrQuery::default()).unwrap();
        assert_eq!(
            all.iter().map(|c| c.call_id.as_str()).collect::<Vec<_>>(),
            ["c2", "c1"]
        );
        assert_eq!(all[1].b_leg.packets_in, 250);
        assert_eq!(all[1].a_leg.mos, Some(4.3));
        let q = CdrQuery {
            number: Some("1555".into()),
            ..Default::default()
        };
        assert_eq!(s.cdrs(&q).unwrap().len(), 1);
        let q = CdrQuery {
            since_ms: Some(1_500),
            ..Default::default()
        };
        assert_eq!(s.cdrs(&q).unwrap()[0].call_id, "c2");
    }

    #[test]
    fn persists_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            s.set_setting("admin_password", "x").unwrap();
            s.insert_cdr(&cdr("c1", "a", "b", 1)).unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.setting("admin_password").unwrap().as_deref(), Some("x"));
        assert_eq!(s.cdrs(&CdrQuery::default()).unwrap().len(), 1);
    }

    #[test]
    fn dtmf_round_trips() {
        let s = Store::in_memory().unwrap();
        let mut c = cdr("c1", "a", "b", 1);
        c.dtmf = "5#12".into();
        s.insert_cdr(&c).unwrap();
        assert_eq!(s.cdrs(&CdrQuery::default()).unwrap()[0].dtmf, "5#12");
    }

    /// A database written by the version before the `dtmf` column opens, keeps its
    /// records (with no digits) and takes new ones with digits.
    #[test]
    fn database_without_the_dtmf_column_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join("gateway.sqlite3")).unwrap();
            // The `cdrs` table as the previous version created it.
            conn.execute_batch(
                "CREATE TABLE cdrs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL UNIQUE,
                    direction TEXT NOT NULL, caller TEXT NOT NULL, callee TEXT NOT NULL,
                    started_ms INTEGER NOT NULL, answered_ms INTEGER, ended_ms INTEGER NOT NULL,
                    cause TEXT NOT NULL, transcoded INTEGER NOT NULL, a_leg TEXT NOT NULL,
                    b_leg TEXT NOT NULL)",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO cdrs (call_id, direction, caller, callee, started_ms, ended_ms, cause,
                 transcoded, a_leg, b_leg) VALUES ('old', 'internal', 'a', 'b', 1, 2, 'normal', 0,
                 '{}', '{}')",
                [],
            )
            .unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        let mut c = cdr("new", "a", "b", 5);
        c.dtmf = "9*".into();
        assert!(s.insert_cdr(&c).unwrap());
        let all = s.cdrs(&CdrQuery::default()).unwrap();
        assert_eq!(
            all.iter()
                .map(|c| (c.call_id.as_str(), c.dtmf.as_str()))
                .collect::<Vec<_>>(),
            [("new", "9*"), ("old", "")]
        );
        drop(s);
        // Opening again (column already there) is a no-op.
        assert_eq!(
            Store::open(dir.path())
                .unwrap()
                .cdrs(&CdrQuery::default())
                .unwrap()
                .len(),
            2
        );
    }
}
