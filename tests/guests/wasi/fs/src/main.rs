//! `fs CASE [ARGS...]`: std::fs against the directories a WASI host
//! preopens, one case per run, results printed as plain lines. Errors print
//! as `error KIND` (`std::io::ErrorKind`'s name), so a test can check them.
//!
//! | case | does |
//! | --- | --- |
//! | `basics DIR` | a scripted tour in DIR (which should start empty): create, write, read, append, seek, metadata, truncate, set times, create_dir_all, read_dir, rename, copy, remove, the usual errors; leaves DIR empty |
//! | `escape DIR` | tries to leave DIR, a preopen whose host folder has a sibling file `outside.txt`: `..`, absolute paths, symlinks to outside (created by the guest, then followed), hard links, renames out; prints each result |
//! | `read PATH` | prints the file's contents (`read: ...`) |
//! | `write PATH TEXT` | creates or truncates PATH with TEXT |
//! | `append PATH TEXT` | appends TEXT to PATH |
//! | `ls DIR` | the entries of DIR in the order the host gives them, `name kind` |
//! | `stat PATH` | kind and length of PATH (following symlinks), and of the link itself |
//! | `mkdir PATH` | `create_dir_all` |
//! | `rm PATH` | removes a file, or an empty directory |
//! | `rename FROM TO` | renames |
//! | `symlink TARGET LINK` | creates a symlink LINK pointing at TARGET |
//! | `readlink LINK` | prints a symlink's target |
//! | `hardlink FROM TO` | creates a hard link |
//! | `cat` | copies stdin to stdout (stdio through the same build) |
//!
//! Built for wasm32-wasip2 and, unchanged, for wasm32-wasip1 (made a
//! component with the preview1 adapter).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

/// `ok` or `error KIND` for a result whose value is not printed.
fn status<T>(r: io::Result<T>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => error(&e),
    }
}

fn error(e: &io::Error) -> String {
    format!("error {:?}", e.kind())
}

fn kind(ft: fs::FileType) -> &'static str {
    if ft.is_symlink() {
        "symlink"
    } else if ft.is_dir() {
        "dir"
    } else if ft.is_file() {
        "file"
    } else {
        "other"
    }
}

fn read(path: &str) -> String {
    match fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => error(&e),
    }
}

/// Names and kinds in DIR, sorted by name.
fn listing(dir: &str) -> String {
    match fs::read_dir(dir) {
        Ok(entries) => {
            let mut names = Vec::new();
            for e in entries {
                match e.and_then(|e| Ok((e.file_name(), e.file_type()?))) {
                    Ok((n, t)) => names.push(format!("{} {}", n.to_string_lossy(), kind(t))),
                    Err(e) => names.push(error(&e)),
                }
            }
            names.sort();
            if names.is_empty() {
                "(empty)".to_string()
            } else {
                names.join(", ")
            }
        }
        Err(e) => error(&e),
    }
}

fn basics(dir: &str) {
    let p = |name: &str| format!("{dir}/{name}");
    println!("write a.txt: {}", status(fs::write(p("a.txt"), "hello")));
    println!("read a.txt: {}", read(&p("a.txt")));
    let appended = OpenOptions::new()
        .append(true)
        .open(p("a.txt"))
        .and_then(|mut f| f.write_all(b" world"));
    println!("append: {}", status(appended));
    println!("read a.txt: {}", read(&p("a.txt")));
    let seek = |from: SeekFrom| -> String {
        let r = File::open(p("a.txt")).and_then(|mut f| {
            let at = f.seek(from)?;
            let mut s = String::new();
            f.read_to_string(&mut s)?;
            Ok(format!("at {at}: {s}"))
        });
        r.unwrap_or_else(|e| error(&e))
    };
    println!("seek start+6: {}", seek(SeekFrom::Start(6)));
    println!("seek end-5: {}", seek(SeekFrom::End(-5)));
    // Writing at an offset through a read-write handle.
    let overwrite = OpenOptions::new()
        .read(true)
        .write(true)
        .open(p("a.txt"))
        .and_then(|mut f| {
            f.seek(SeekFrom::Start(0))?;
            f.write_all(b"J")?;
            f.sync_all()
        });
    println!("overwrite at 0: {}", status(overwrite));
    println!("read a.txt: {}", read(&p("a.txt")));
    match fs::metadata(p("a.txt")) {
        Ok(m) => println!(
            "metadata a.txt: {} len={} readonly={}",
            kind(m.file_type()),
            m.len(),
            m.permissions().readonly()
        ),
        Err(e) => println!("metadata a.txt: {}", error(&e)),
    }
    let truncated = OpenOptions::new()
        .write(true)
        .open(p("a.txt"))
        .and_then(|f| f.set_len(5));
    println!("truncate to 5: {}", status(truncated));
    println!("read a.txt: {}", read(&p("a.txt")));
    let when = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let times = File::options()
        .write(true)
        .open(p("a.txt"))
        .and_then(|f| f.set_modified(when));
    println!("set modified: {}", status(times));
    match fs::metadata(p("a.txt")).and_then(|m| m.modified()) {
        Ok(t) => println!(
            "modified: {:?}",
            t.duration_since(UNIX_EPOCH).map(|d| d.as_secs())
        ),
        Err(e) => println!("modified: {}", error(&e)),
    }
    println!(
        "create_new a.txt: {}",
        status(OpenOptions::new().write(true).create_new(true).open(p("a.txt")))
    );
    println!("open missing: {}", status(File::open(p("missing.txt"))));
    println!("create_dir_all d/x/y: {}", status(fs::create_dir_all(p("d/x/y"))));
    println!("create_dir d: {}", status(fs::create_dir(p("d"))));
    println!("write d/x/y/z.txt: {}", status(fs::write(p("d/x/y/z.txt"), "deep")));
    println!("ls: {}", listing(dir));
    println!("ls d/x/y: {}", listing(&p("d/x/y")));
    println!("rename a.txt d/b.txt: {}", status(fs::rename(p("a.txt"), p("d/b.txt"))));
    println!("a.txt exists: {}", Path::new(&p("a.txt")).exists());
    println!("read d/b.txt: {}", read(&p("d/b.txt")));
    println!("copy d/b.txt c.txt: {}", match fs::copy(p("d/b.txt"), p("c.txt")) {
        Ok(n) => format!("{n} bytes"),
        Err(e) => error(&e),
    });
    println!("read c.txt: {}", read(&p("c.txt")));
    println!("read_dir of a file: {}", status(fs::read_dir(p("c.txt"))));
    println!("remove_file c.txt: {}", status(fs::remove_file(p("c.txt"))));
    println!("remove_dir d (not empty): {}", status(fs::remove_dir(p("d"))));
    println!("remove_file d (a dir): {}", status(fs::remove_file(p("d"))));
    println!("remove_dir_all d: {}", status(fs::remove_dir_all(p("d"))));
    println!("ls: {}", listing(dir));
}

fn escape(dir: &str) {
    let p = |name: &str| format!("{dir}/{name}");
    println!("read ../outside.txt: {}", read(&p("../outside.txt")));
    println!("read a/../../outside.txt: {}", read(&p("a/../../outside.txt")));
    println!("read /etc/passwd: {}", read("/etc/passwd"));
    println!(
        "write ../outside.txt: {}",
        status(fs::write(p("../outside.txt"), "changed"))
    );
    println!(
        "write ../new.txt: {}",
        status(fs::write(p("../new.txt"), "new"))
    );
    println!("metadata ..: {}", status(fs::metadata(p(".."))));
    println!("ls ..: {}", listing(&p("..")));
    println!("mkdir ../newdir: {}", status(fs::create_dir(p("../newdir"))));
    // A symlink the guest makes to outside: creating it may be refused;
    // following it must be.
    #[allow(deprecated)]
    let made = fs::soft_link("../outside.txt", p("link-out"));
    println!("symlink link-out -> ../outside.txt: {}", status(made));
    println!("read link-out: {}", read(&p("link-out")));
    println!(
        "write link-out: {}",
        status(fs::write(p("link-out"), "changed"))
    );
    #[allow(deprecated)]
    let made = fs::soft_link("/etc/passwd", p("link-abs"));
    println!("symlink link-abs -> /etc/passwd: {}", status(made));
    println!("read link-abs: {}", read(&p("link-abs")));
    // A symlink inside the sandbox pointing inside works.
    println!("write inside.txt: {}", status(fs::write(p("inside.txt"), "in")));
    #[allow(deprecated)]
    let made = fs::soft_link("inside.txt", p("link-in"));
    println!("symlink link-in -> inside.txt: {}", status(made));
    println!("read link-in: {}", read(&p("link-in")));
    println!(
        "hard_link ../outside.txt hl: {}",
        status(fs::hard_link(p("../outside.txt"), p("hl")))
    );
    println!("read hl: {}", read(&p("hl")));
    println!(
        "rename inside.txt ../moved.txt: {}",
        status(fs::rename(p("inside.txt"), p("../moved.txt")))
    );
    println!("read inside.txt: {}", read(&p("inside.txt")));
    for name in ["link-out", "link-abs", "link-in", "hl", "inside.txt"] {
        let _ = fs::remove_file(p(name));
    }
    println!("ls: {}", listing(dir));
}

fn run(case: &str, rest: &[String]) -> Result<(), String> {
    let arg = |i: usize| -> Result<&str, String> {
        rest.get(i)
            .map(String::as_str)
            .ok_or_else(|| format!("`{case}` needs {} argument(s)", i + 1))
    };
    match case {
        "basics" => basics(arg(0)?),
        "escape" => escape(arg(0)?),
        "read" => println!("read: {}", read(arg(0)?)),
        "write" => println!("write: {}", status(fs::write(arg(0)?, arg(1)?))),
        "append" => {
            let r = OpenOptions::new()
                .append(true)
                .open(arg(0)?)
                .and_then(|mut f| f.write_all(rest[1..].join(" ").as_bytes()));
            println!("append: {}", status(r));
        }
        "ls" => match fs::read_dir(arg(0)?) {
            Ok(entries) => {
                for e in entries {
                    match e.and_then(|e| Ok((e.file_name(), e.file_type()?))) {
                        Ok((n, t)) => println!("{} {}", n.to_string_lossy(), kind(t)),
                        Err(e) => println!("{}", error(&e)),
                    }
                }
            }
            Err(e) => println!("ls: {}", error(&e)),
        },
        "stat" => {
            let path = arg(0)?;
            match fs::metadata(path) {
                Ok(m) => println!("stat: {} len={}", kind(m.file_type()), m.len()),
                Err(e) => println!("stat: {}", error(&e)),
            }
            match fs::symlink_metadata(path) {
                Ok(m) => println!("lstat: {} len={}", kind(m.file_type()), m.len()),
                Err(e) => println!("lstat: {}", error(&e)),
            }
        }
        "mkdir" => println!("mkdir: {}", status(fs::create_dir_all(arg(0)?))),
        "rm" => {
            let path = arg(0)?;
            let r = match fs::symlink_metadata(path) {
                Ok(m) if m.is_dir() => fs::remove_dir(path),
                _ => fs::remove_file(path),
            };
            println!("rm: {}", status(r));
        }
        "rename" => println!("rename: {}", status(fs::rename(arg(0)?, arg(1)?))),
        "symlink" => {
            #[allow(deprecated)]
            let r = fs::soft_link(arg(0)?, arg(1)?);
            println!("symlink: {}", status(r));
        }
        "readlink" => match fs::read_link(arg(0)?) {
            Ok(t) => println!("readlink: {}", t.display()),
            Err(e) => println!("readlink: {}", error(&e)),
        },
        "hardlink" => println!("hardlink: {}", status(fs::hard_link(arg(0)?, arg(1)?))),
        "cat" => {
            let mut input = Vec::new();
            io::stdin()
                .read_to_end(&mut input)
                .map_err(|e| format!("reading stdin: {e}"))?;
            io::stdout()
                .write_all(&input)
                .and_then(|()| io::stdout().flush())
                .map_err(|e| format!("writing stdout: {e}"))?;
        }
        _ => return Err(format!("unknown case `{case}`")),
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((case, rest)) = args.split_first() else {
        eprintln!("usage: fs CASE [ARGS...] (see the source for the cases)");
        return ExitCode::from(2);
    };
    match run(case, rest) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fs: {e}");
            ExitCode::FAILURE
        }
    }
}
