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

#[cfg(test)]
mod tests {
    use super::*;

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
