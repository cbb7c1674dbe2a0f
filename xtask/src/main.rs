//! `cargo xtask test`: the project's test command (README). It starts a throwaway PostgreSQL
//! cluster from the machine's own binaries when they are installed (initdb and postgres run as the
//! `postgres` user when we are root, on a private socket directory and a free port), runs
//! `cargo test --workspace --locked` with `JIAMAO_TEST_PG_URL` pointing at it, and stops it
//! whatever the outcome. Without PostgreSQL it runs the suite on SQLite alone and says so.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => {
            let extra = args.get(1..).unwrap_or_default();
            test(extra.strip_prefix(&["--".to_owned()][..]).unwrap_or(extra))
        }
        _ => {
            eprintln!("usage: cargo xtask test [-- extra cargo test arguments]");
            ExitCode::from(2)
        }
    }
}

/// The PostgreSQL server binaries, newest major version first.
fn pg_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("JIAMAO_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").ok()?.filter_map(|e| e.ok().map(|e| e.path().join("bin"))).filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists()).collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// Runs a PostgreSQL binary, as the postgres user when we are root (initdb refuses root).
fn pg_command(bin: &Path, tool: &str, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

fn free_port() -> Option<u16> {
    std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok().map(|a| a.port())
}

struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
}

impl Cluster {
    fn start(bin: PathBuf) -> Result<(Cluster, String), String> {
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!("jiamao-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if as_postgres {
            let ok = Command::new("chown").args(["postgres:postgres"]).arg(&dir).status().map(|s| s.success()).unwrap_or(false);
            if !ok {
                return Err("cannot give the cluster directory to the postgres user".into());
            }
        }
        let data = dir.join("data");
        let out = pg_command(&bin, "initdb", as_postgres).arg("-D").arg(&data).args(["-A", "trust", "-U", "postgres", "--no-sync"]).output().map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let port = free_port().ok_or("no free port")?;
        let opts = format!(
            "-k {} -p {port} -c listen_addresses='' -c fsync=off -c max_connections=200 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.max=10000",
            dir.display()
        );
        let cluster = Cluster { bin: bin.clone(), data: data.clone(), dir: dir.clone(), as_postgres };
        let out =
            pg_command(&bin, "pg_ctl", as_postgres).arg("-D").arg(&data).arg("-o").arg(&opts).arg("-l").arg(dir.join("log")).args(["-w", "start"]).output().map_err(|e| format!("pg_ctl: {e}"))?;
        if !out.status.success() {
            return Err(format!("postgres did not start: {}{}", String::from_utf8_lossy(&out.stderr), std::fs::read_to_string(dir.join("log")).unwrap_or_default()));
        }
        let host: String = dir.display().to_string().replace('/', "%2F");
        Ok((cluster, format!("postgres://postgres@{host}:{port}/postgres")))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = pg_command(&self.bin, "pg_ctl", self.as_postgres).arg("-D").arg(&self.data).args(["-m", "immediate", "-w", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn test(extra: &[String]) -> ExitCode {
    let cluster = match pg_bin() {
        None => {
            println!("xtask: PostgreSQL is not installed: running the suite on SQLite alone (the PostgreSQL tests skip)");
            None
        }
        Some(bin) => match Cluster::start(bin.clone()) {
            Ok((c, url)) => {
                println!("xtask: throwaway PostgreSQL from {} at {url}", bin.display());
                Some((c, url))
            }
            Err(e) => {
                eprintln!("xtask: could not start PostgreSQL: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["test", "--workspace", "--locked"]).args(extra);
    if let Some((_, url)) = &cluster {
        cmd.env("JIAMAO_TEST_PG_URL", url);
    }
    let status = cmd.status();
    drop(cluster);
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => ExitCode::from(s.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)),
        Err(e) => {
            eprintln!("xtask: cannot run cargo test: {e}");
            ExitCode::FAILURE
        }
    }
}
