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
    /// A fresh installation in a folder of its own (`test` names it: tests run in parallel).
    fn new(test: &str) -> Installed {
        let root =
            std::env::temp_dir().join(format!("qmulgen-install-{}-{test}", std::process::id()));
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
        self.run_with(args, &[])
    }

    /// [`Installed::run`] with `vars` set.
    fn run_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let mut command = Command::new(&self.exe);
        command
            .args(args)
            .current_dir(&self.work)
            .env_remove("QMULGEN_CACHE")
            .env_remove("QMULGEN_VENV")
            .env_remove("VERILATOR_ROOT")
            .env("XDG_CACHE_HOME", &self.cache_home)
            .env_remove("QMULGEN_CACHE_MAX_GB")
            .envs(vars.iter().copied());
        // Another test's thread may fork while this binary's copy is still open for writing
        // in it (ETXTBSY until that child execs): try again.
        for _ in 0..50 {
            match command.output() {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => return other.unwrap(),
            }
        }
        panic!("{} stays busy", self.exe.display())
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
    let inst = Installed::new("tools");
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

#[test]
fn netlists_are_cached_gzipped_and_each_cache_folder_kept_under_its_limit() {
    use std::io::Read;
    let inst = Installed::new("limit");
    let synth = inst.cache_home.join("qmulgen/synth");
    let files = |suffix: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&synth)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.retain(|p| p.to_string_lossy().ends_with(suffix));
        v
    };
    let luts = |o: &Output| {
        let t = text(o);
        assert!(o.status.success(), "{t}");
        // The progress line: "[1/1] NAME: N LUTs, depth D" and "(cached)" when it was.
        let first = (t.lines().find(|l| l.starts_with("[1/1]")))
            .unwrap_or_else(|| panic!("no progress line in {t}"))
            .to_string();
        let luts = first.split(" LUTs").next().unwrap_or_default().to_string();
        (luts, first.contains("(cached)"))
    };
    let (fresh, cached) = luts(&inst.run(&["synth", "exact", "--width", "4"]));
    assert!(!cached, "{fresh}");
    // The netlist is stored as gzipped Yosys JSON.
    let gz = files(".netlist.json.gz");
    assert_eq!(gz.len(), 1, "{gz:?}");
    let mut json = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&gz[0]).unwrap())
        .read_to_string(&mut json)
        .unwrap();
    assert!(json.contains("\"modules\"") && json.contains("exact_u4x4"));
    // Without the stored result, the same figures come from the gzipped netlist.
    for result in files(".json") {
        std::fs::remove_file(result).unwrap();
    }
    let (again, cached) = luts(&inst.run(&["synth", "exact", "--width", "4"]));
    assert!(cached && again == fresh, "{again} against {fresh}");

    // A limit below one netlist: the next synthesis trims the folder down to its own netlist.
    let tiny = [("QMULGEN_CACHE_MAX_GB", "0.000001")];
    let o = inst.run_with(&["synth", "exact", "--width", "5"], &tiny);
    assert!(o.status.success(), "{}", text(&o));
    let left = std::fs::read_dir(&synth).unwrap().flatten().count();
    let gz = files(".netlist.json.gz");
    assert!(
        left == 1 && gz.len() == 1,
        "{left} entries, netlists {gz:?}"
    );
    assert!(gz[0].to_string_lossy().contains("exact_u5x5"), "{gz:?}");
    // So does the next model build, in its own folder; the new model stays, and runs.
    let models = inst.cache_home.join("qmulgen/verilator-models");
    let visible = || -> Vec<String> {
        (std::fs::read_dir(&models).unwrap().flatten())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect()
    };
    let o = inst.run(&["verify", "exact", "--width", "2"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(visible().len(), 1);
    let o = inst.run_with(&["verify", "exact", "--width", "3"], &tiny);
    assert!(o.status.success(), "{}", text(&o));
    let v = visible();
    assert!(v.len() == 1 && v[0].starts_with("exact_u3x3"), "{v:?}");

    // An invalid limit is said, and nothing is trimmed.
    let o = inst.run_with(
        &["synth", "exact", "--width", "6"],
        &[("QMULGEN_CACHE_MAX_GB", "lots")],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("QMULGEN_CACHE_MAX_GB=lots: expected a positive number of GB"),
        "{}",
        text(&o)
    );
    assert_eq!(files(".netlist.json.gz").len(), 2);
    let o = inst.run_with(&["doctor"], &[("QMULGEN_CACHE_MAX_GB", "lots")]);
    assert!(
        text(&o).contains("INVALID: QMULGEN_CACHE_MAX_GB=lots"),
        "{}",
        text(&o)
    );
}
