//! The folders the host writes or trusts: the compile cache (where, and
//! when it is refused) and core dumps.

use crate::common::{hio, manifest, plugin, quoted, stderr};

#[test]
fn compiled_code_is_cached_in_a_private_folder() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("deep/cache");
    let rec = plugin("recorder");
    let args = [
        "run",
        rec.to_str().expect("utf-8"),
        "--limit",
        "0.1",
        "--cache-dir",
        cache.to_str().expect("utf-8"),
    ];
    let out = hio(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(&cache)
        .expect("cache dir")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    let files = walk(&cache);
    assert!(!files.is_empty(), "the compiled component is stored");
    // HIO_CACHE_DIR is the default location.
    let other = dir.path().join("env-cache");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(&args[..4])
        .env("HIO_CACHE_DIR", &other)
        .output()
        .expect("run hio");
    assert!(out.status.success());
    assert!(!walk(&other).is_empty());
}

#[test]
fn compiled_code_is_cached_in_the_users_cache_folder_by_default() {
    let rec = plugin("recorder");
    let args = ["run", rec.to_str().expect("utf-8"), "--limit", "0.1"];
    let run = |envs: &[(&str, &std::path::Path)], extra: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hio"));
        cmd.args(args).args(extra).env_remove("HIO_CACHE_DIR");
        cmd.env_remove("XDG_CACHE_HOME");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run hio");
        assert!(out.status.success(), "{}", stderr(&out));
        out
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // $XDG_CACHE_HOME/hio when it is set (and absolute)...
    let xdg = dir.path().join("xdg");
    run(&[("XDG_CACHE_HOME", &xdg), ("HOME", dir.path())], &[]);
    assert!(!walk(&xdg.join("hio")).is_empty());
    assert!(!dir.path().join(".cache").exists());
    // ...else ~/.cache/hio.
    let home = dir.path().join("home");
    run(&[("HOME", &home)], &[]);
    assert!(!walk(&home.join(".cache/hio")).is_empty());
    // --no-cache keeps nothing.
    let bare = dir.path().join("bare");
    run(
        &[("HOME", &bare), ("XDG_CACHE_HOME", &bare)],
        &["--no-cache"],
    );
    assert!(!bare.exists());
    // A default folder that cannot be made is a warning, not a failure.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    let out = run(&[("XDG_CACHE_HOME", &file)], &[]);
    assert!(
        stderr(&out).contains("running without a compile cache"),
        "{}",
        stderr(&out)
    );
    // A folder the user named that cannot be made is an error.
    let named = file.join("cache");
    let out = hio(&[
        args[0],
        args[1],
        args[2],
        args[3],
        "--cache-dir",
        named.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_folder_others_can_write_is_not_trusted_with_code_or_dumps() {
    use std::os::unix::fs::PermissionsExt;
    let rec = plugin("recorder");
    let rec = rec.to_str().expect("utf-8");
    let dir = tempfile::tempdir().expect("temp dir");
    let open = dir.path().join("open");
    std::fs::create_dir(&open).expect("mkdir");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let open_s = open.to_str().expect("utf-8");
    for flag in ["--cache-dir", "--core-dumps"] {
        let out = hio(&["run", rec, "--limit", "0.1", flag, open_s]);
        assert_eq!(out.status.code(), Some(3), "{flag}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("can be written by others (mode 777)"), "{err}");
        assert!(err.contains(&format!("chmod go-w {open_s}")), "{err}");
    }
    // The default cache folder: a warning, and the run goes on uncached.
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(xdg.join("hio")).expect("mkdir");
    std::fs::set_permissions(xdg.join("hio"), std::fs::Permissions::from_mode(0o777))
        .expect("chmod");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(["run", rec, "--limit", "0.1"])
        .env_remove("HIO_CACHE_DIR")
        .env("XDG_CACHE_HOME", &xdg)
        .output()
        .expect("run hio");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("running without a compile cache"),
        "{}",
        stderr(&out)
    );
    // Another user's folder, where this test may make one (as root).
    let theirs = dir.path().join("theirs");
    std::fs::create_dir(&theirs).expect("mkdir");
    let chown = std::process::Command::new("chown")
        .args(["12345", theirs.to_str().expect("utf-8")])
        .status();
    if chown.is_ok_and(|s| s.success()) {
        let out = hio(&[
            "run",
            rec,
            "--limit",
            "0.1",
            "--cache-dir",
            theirs.to_str().expect("utf-8"),
        ]);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("is owned by uid 12345"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn core_dumps_never_follow_a_link_nor_share_a_name() {
    let bad = quoted(&plugin("hostile"));
    // Doer `a.b` and doer `b` inside DoDoer `a`: paths `a.b` and `a/b`.
    let (dir, path) = manifest(&format!(
        "[[doers]]\nname = \"a.b\"\nplugin = {bad}\noptions = {{ mode = \"trap\" }}\n\
         [[doers]]\nname = \"a\"\ndoers = [ {{ name = \"b\", plugin = {bad}, options = {{ mode = \"trap\" }} }} ]\n\
         [[doers]]\nname = \"c\"\nplugin = {bad}\noptions = {{ mode = \"trap\" }}\n"
    ));
    let dumps = dir.path().join("dumps");
    std::fs::create_dir(&dumps).expect("mkdir");
    // A link planted where c's dump goes must not be followed.
    let target = dir.path().join("precious");
    std::fs::write(&target, "keep me").expect("write");
    std::os::unix::fs::symlink(&target, dumps.join("c.0.coredump")).expect("symlink");
    let out = hio(&[
        "run",
        path.to_str().expect("utf-8"),
        "--core-dumps",
        dumps.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dumps.join("a.b.0.coredump").is_file());
    assert!(dumps.join("a+b.0.coredump").is_file());
    assert_eq!(std::fs::read_to_string(&target).expect("target"), "keep me");
    assert!(
        stderr(&out).contains("core dump not written to"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn core_dumps_of_trapped_instances_are_written_where_asked() {
    let bad = quoted(&plugin("hostile"));
    let (dir, path) = manifest(&format!(
        "supervision = {{ policy = \"restart\", max_restarts = 1 }}\n\
         [[doers]]\nname = \"h\"\nplugin = {bad}\noptions = {{ mode = \"trap\" }}\n"
    ));
    let dumps = dir.path().join("dumps");
    let out = hio(&[
        "run",
        path.to_str().expect("utf-8"),
        "--core-dumps",
        dumps.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    for attempt in [0, 1] {
        let file = dumps.join(format!("h.{attempt}.coredump"));
        assert!(
            err.contains(&format!("h error core dump written to {}", file.display())),
            "{err}"
        );
        let bytes = std::fs::read(&file).expect("core dump file");
        assert_eq!(&bytes[..4], b"\0asm", "a Wasm core dump is a Wasm file");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("core"), "it has the core section");
    }
    let without = hio(&["run", path.to_str().expect("utf-8")]);
    assert!(!stderr(&without).contains("core dump"));
}
