//! An installed qmulgen: the release binary copied out of the build tree and run from another
//! folder that holds a `.venv` link (as `cargo install` leaves it for a user with their own
//! `make deps` venv) finds its tools there by absolute paths and keeps its caches in the
//! user's cache folder, not in the build tree.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Installed {
    root: PathBuf,
    exe: PathBuf,
    work: PathBuf,
    cache_home: PathBuf,
}

impl Installed {
    fn new() -> Installed {
        let root = std::env::temp_dir().join(format!("qmulgen-install-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for d in ["bin", "work", "cache"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        let exe = root.join("bin/qmulgen");
        std::fs::copy(env!("CARGO_BIN_EXE_qmulgen"), &exe).unwrap();
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv");
        assert!(venv.is_dir(), "run `make deps` first");
        std::os::unix::fs::symlink(&venv, root.join("work/.venv")).unwrap();
        Installed {
            exe,
            work: root.join("work"),
            cache_home: root.join("cache"),
            root,
        }
    }

    /// Run from `work`, with only the user's cache folder set (no qmulgen variables).
    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.exe)
            .args(args)
            .current_dir(&self.work)
            .env_remove("QMULGEN_CACHE")
            .env_remove("QMULGEN_VENV")
            .env_remove("VERILATOR_ROOT")
            .env("XDG_CACHE_HOME", &self.cache_home)
            .output()
            .unwrap()
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn an_installed_binary_finds_its_tools_and_caches_from_another_folder() {
    let inst = Installed::new();
    let venv = inst.work.join(".venv").display().to_string();
    let cache = inst.cache_home.join("qmulgen");

    let o = inst.run(&["doctor"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    // The tools come from the folder's .venv link, named by absolute paths.
    let line = |what: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(what))
            .unwrap_or_else(|| panic!("no {what} line in:\n{out}"))
            .to_string()
    };
    assert!(line("verilator").contains(&venv), "{out}");
    assert!(line("yosys").contains(&venv), "{out}");
    assert!(
        line("caches:").contains(&cache.display().to_string()),
        "{out}"
    );

    let o = inst.run(&["verify", "exact", "--width", "4"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("256 vectors"), "{}", text(&o));
    let o = inst.run(&["synth", "exact", "--width", "4"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("exact_u4x4"), "{}", text(&o));
    // Both caches were filled in the user's cache folder.
    for flow in ["verilator-models", "synth"] {
        let entries = std::fs::read_dir(cache.join(flow))
            .map(|rd| rd.count())
            .unwrap_or(0);
        assert!(
            entries > 0,
            "nothing cached in {}",
            cache.join(flow).display()
        );
    }
    let o = inst.run(&["doctor"]);
    assert!(!text(&o).contains("(0.0 MB)"), "{}", text(&o));
}
