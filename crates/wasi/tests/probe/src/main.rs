//! `probe CASE`: calls WASI 0.2 functions directly and prints what they
//! return, one line each, for `crates/wasi/tests/probe.rs` to compare.

use wasip2::cli::{environment, stderr, stdin, stdout};
use wasip2::clocks::monotonic_clock;
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{
    filesystem_error_code, Advice, Descriptor, DescriptorFlags as DF, ErrorCode, NewTimestamp,
    OpenFlags as OF, PathFlags as PF,
};
use wasip2::io::poll::poll;
use wasip2::io::streams::StreamError;
use wasip2::random::random;
use wasip2::sockets::network::IpAddressFamily;
use wasip2::sockets::{instance_network, ip_name_lookup, tcp_create_socket, udp_create_socket};

fn e<T: std::fmt::Debug>(r: Result<T, ErrorCode>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(c) => format!("error {}", c.name()),
    }
}

fn u(r: Result<(), ErrorCode>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(c) => format!("error {}", c.name()),
    }
}

fn s<T: std::fmt::Debug>(r: Result<T, StreamError>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(StreamError::Closed) => "closed".into(),
        Err(StreamError::LastOperationFailed(err)) => format!(
            "failed {:?} ({})",
            filesystem_error_code(&err).map(|c| c.name()),
            err.to_debug_string()
        ),
    }
}

fn text(r: Result<Vec<u8>, StreamError>) -> String {
    s(r.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

fn preopen(name: &str) -> Descriptor {
    get_directories()
        .into_iter()
        .find(|(_, n)| n == name)
        .map(|(d, _)| d)
        .unwrap_or_else(|| panic!("no preopen {name}"))
}

fn open(dir: &Descriptor, path: &str, of: OF, df: DF) -> Descriptor {
    dir.open_at(PF::empty(), path, of, df)
        .unwrap_or_else(|c| panic!("open {path}: {}", c.name()))
}

fn hash(h: wasip2::filesystem::types::MetadataHashValue) -> (u64, u64) {
    (h.lower, h.upper)
}

fn poll_case() {
    let now = monotonic_clock::now();
    let a = monotonic_clock::subscribe_duration(1_000_000);
    let b = monotonic_clock::subscribe_duration(5_000_000);
    let c = monotonic_clock::subscribe_instant(now + 3_000_000);
    let past = monotonic_clock::subscribe_instant(0);
    println!("a ready at once: {}", a.ready());
    println!("past ready: {}", past.ready());
    println!("poll b a c: {:?}", poll(&[&b, &a, &c]));
    println!("a ready after poll: {}", a.ready());
    b.block();
    println!("b ready after block: {}", b.ready());
    println!("elapsed at least 5 ms: {}", monotonic_clock::now() - now >= 5_000_000);
    println!("poll b a c: {:?}", poll(&[&b, &a, &c]));
    let out = stdout::get_stdout();
    let inp = stdin::get_stdin();
    println!("stdout ready: {}", out.subscribe().ready());
    println!("stdin ready: {}", inp.subscribe().ready());
    println!("poll streams and a timer: {:?}", poll(&[&b, &out.subscribe()]));
}

fn streams_case() {
    let dir = preopen("/m");
    let data = open(&dir, "data.txt", OF::empty(), DF::READ);
    let r = data.read_via_stream(2).unwrap();
    println!("read 3: {}", text(r.read(3)));
    println!("skip 2: {}", s(r.skip(2)));
    println!("blocking-read 100: {}", text(r.blocking_read(100)));
    println!("read at end: {}", text(r.read(1)));
    println!("blocking-skip at end: {}", s(r.blocking_skip(1)));
    println!("input subscribe ready: {}", r.subscribe().ready());
    let f = open(&dir, "out.txt", OF::CREATE, DF::READ | DF::WRITE);
    let w = f.write_via_stream(0).unwrap();
    println!("check-write > 0: {}", w.check_write().map(|n| n > 0).unwrap_or(false));
    println!("write abc: {}", s(w.write(b"abc")));
    println!("write-zeroes 2: {}", s(w.write_zeroes(2)));
    println!("blocking-write-and-flush de: {}", s(w.blocking_write_and_flush(b"de")));
    println!("flush: {}", s(w.flush()));
    println!("blocking-flush: {}", s(w.blocking_flush()));
    let src = data.read_via_stream(0).unwrap();
    println!("splice 4: {}", s(w.splice(&src, 4)));
    println!("blocking-splice 100: {}", s(w.blocking_splice(&src, 100)));
    println!("splice at end: {}", s(w.splice(&src, 1)));
    println!("blocking-write-zeroes-and-flush 1: {}", s(w.blocking_write_zeroes_and_flush(1)));
    println!("output subscribe ready: {}", w.subscribe().ready());
    drop(w);
    let a = f.append_via_stream().unwrap();
    println!("append !: {}", s(a.blocking_write_and_flush(b"!")));
    drop(a);
    match f.read(100, 0) {
        Ok((bytes, eof)) => println!("out.txt: {:?} eof={eof}", String::from_utf8_lossy(&bytes)),
        Err(c) => println!("out.txt: error {}", c.name()),
    }
    let inp = stdin::get_stdin();
    println!("stdin blocking-read 5: {}", text(inp.blocking_read(5)));
    println!("stdin skip 1: {}", s(inp.skip(1)));
    println!("stdin read: {}", text(inp.read(100)));
    println!("stdin read at end: {}", text(inp.read(100)));
    let err = stderr::get_stderr();
    println!("stderr write: {}", s(err.blocking_write_and_flush(b"to stderr via wasi:io\n")));
    // A write past a memory tree's cap fails with an error resource.
    let small = preopen("/small");
    let big = open(&small, "big", OF::CREATE, DF::WRITE);
    let w = big.write_via_stream(0).unwrap();
    println!("write past the cap: {}", s(w.write(&[7u8; 4096])));
}

fn descriptors_case() {
    let dir = preopen("/m");
    println!("preopen type: {}", e(dir.get_type()));
    println!("preopen flags: {}", e(dir.get_flags()));
    println!("create d: {}", u(dir.create_directory_at("d")));
    println!("create d again: {}", u(dir.create_directory_at("d")));
    let f = open(&dir, "d/f.txt", OF::CREATE, DF::READ | DF::WRITE);
    println!("f type: {}", e(f.get_type()));
    println!("f flags: {}", e(f.get_flags()));
    println!("write hello: {}", e(f.write(b"hello", 0)));
    println!("read 3 at 1: {}", e(f.read(3, 1).map(|(b, eof)| (String::from_utf8(b).unwrap(), eof))));
    println!("read 10 at 3: {}", e(f.read(10, 3).map(|(b, eof)| (String::from_utf8(b).unwrap(), eof))));
    println!("read past the end: {}", e(f.read(10, 1 << 40)));
    println!("read huge: {}", e(f.read(u64::MAX, 0).map(|(b, eof)| (b.len(), eof))));
    println!("set-size 2: {}", u(f.set_size(2)));
    let st = f.stat().unwrap();
    println!("stat: {:?} size={} links={}", st.type_, st.size, st.link_count);
    let t = wasip2::clocks::wall_clock::Datetime { seconds: 1_000_000_000, nanoseconds: 5 };
    println!("set-times: {}", u(f.set_times(NewTimestamp::Timestamp(t), NewTimestamp::Timestamp(t))));
    println!("mtime: {:?}", f.stat().unwrap().data_modification_timestamp);
    println!("sync-data: {}", u(f.sync_data()));
    println!("sync: {}", u(f.sync()));
    println!("advise: {}", u(f.advise(0, 2, Advice::Sequential)));
    println!("stat-at d/f.txt size: {}", e(dir.stat_at(PF::empty(), "d/f.txt").map(|s| s.size)));
    let t7 = wasip2::clocks::wall_clock::Datetime { seconds: 7, nanoseconds: 0 };
    println!(
        "set-times-at: {}",
        u(dir.set_times_at(PF::empty(), "d/f.txt", NewTimestamp::NoChange, NewTimestamp::Timestamp(t7)))
    );
    println!(
        "mtime after set-times-at: {:?}",
        dir.stat_at(PF::empty(), "d/f.txt").unwrap().data_modification_timestamp
    );
    println!("link-at d/g.txt: {}", u(dir.link_at(PF::empty(), "d/f.txt", &dir, "d/g.txt")));
    println!("links: {}", f.stat().unwrap().link_count);
    let g = open(&dir, "d/g.txt", OF::empty(), DF::READ);
    println!("same object f g: {}", f.is_same_object(&g));
    println!("same object f dir: {}", f.is_same_object(&dir));
    println!("hash f == hash g: {}", hash(f.metadata_hash().unwrap()) == hash(g.metadata_hash().unwrap()));
    println!(
        "hash-at == hash: {}",
        hash(dir.metadata_hash_at(PF::empty(), "d/g.txt").unwrap()) == hash(f.metadata_hash().unwrap())
    );
    println!("hash f != hash dir: {}", hash(f.metadata_hash().unwrap()) != hash(dir.metadata_hash().unwrap()));
    println!("symlink d/l -> f.txt: {}", u(dir.symlink_at("f.txt", "d/l")));
    println!("readlink d/l: {}", e(dir.readlink_at("d/l")));
    println!("readlink of a file: {}", e(dir.readlink_at("d/f.txt")));
    println!("stat-at d/l follow: {}", e(dir.stat_at(PF::SYMLINK_FOLLOW, "d/l").map(|s| s.type_)));
    println!("stat-at d/l: {}", e(dir.stat_at(PF::empty(), "d/l").map(|s| s.type_)));
    println!("open d/l nofollow: {}", e(dir.open_at(PF::empty(), "d/l", OF::empty(), DF::READ).map(|_| ())));
    println!("open d/l follow: {}", e(dir.open_at(PF::SYMLINK_FOLLOW, "d/l", OF::empty(), DF::READ).map(|_| ())));
    println!("symlink to ../../x: {}", u(dir.symlink_at("../../x", "d/bad")));
    println!("symlink to /etc: {}", u(dir.symlink_at("/etc", "d/bad")));
    println!("symlink over f.txt: {}", u(dir.symlink_at("x", "d/f.txt")));
    println!("rename d/g.txt h.txt: {}", u(dir.rename_at("d/g.txt", &dir, "h.txt")));
    println!("rename missing: {}", u(dir.rename_at("nope", &dir, "h2.txt")));
    println!("rename d into itself: {}", u(dir.rename_at("d", &dir, "d/inner")));
    let list = |d: &Descriptor| -> String {
        let stream = d.read_directory().unwrap();
        let mut out = Vec::new();
        while let Ok(Some(entry)) = stream.read_directory_entry() {
            out.push(format!("{}:{:?}", entry.name, entry.type_));
        }
        out.join(" ")
    };
    println!("ls /m: {}", list(&dir));
    let d = open(&dir, "d", OF::DIRECTORY, DF::READ | DF::MUTATE_DIRECTORY);
    println!("ls d: {}", list(&d));
    println!("read-directory of a file: {}", e(f.read_directory().map(|_| ())));
    println!("d open ../h.txt: {}", e(d.open_at(PF::empty(), "../h.txt", OF::empty(), DF::READ).map(|_| ())));
    println!("unlink-file-at d: {}", u(dir.unlink_file_at("d")));
    println!("remove-directory-at d: {}", u(dir.remove_directory_at("d")));
    println!("remove-directory-at h.txt: {}", u(dir.remove_directory_at("h.txt")));
    println!("unlink d/f.txt: {}", u(dir.unlink_file_at("d/f.txt")));
    println!("unlink d/l: {}", u(dir.unlink_file_at("d/l")));
    println!("unlinked f still reads: {}", e(f.read(10, 0).map(|(b, _)| String::from_utf8(b).unwrap())));
    println!("remove-directory-at d: {}", u(dir.remove_directory_at("d")));
    println!("remove-directory-at d again: {}", u(dir.remove_directory_at("d")));
    let h = open(&dir, "h.txt", OF::empty(), DF::READ);
    println!("write to a read-only descriptor: {}", e(h.write(b"x", 0)));
    println!("write-via-stream read-only: {}", e(h.write_via_stream(0).map(|_| ())));
    println!("set-size read-only: {}", u(h.set_size(0)));
    println!("read-via-stream of a dir: {}", e(dir.read_via_stream(0).map(|_| ())));
    println!("read of a dir: {}", e(dir.read(1, 0)));
    let o = |path: &str, of: OF, df: DF| e(dir.open_at(PF::empty(), path, of, df).map(|d| d.get_type().unwrap()));
    println!("open h.txt as directory: {}", o("h.txt", OF::DIRECTORY, DF::READ));
    println!("open missing: {}", o("nope", OF::empty(), DF::READ));
    println!("open h.txt create exclusive: {}", o("h.txt", OF::CREATE | OF::EXCLUSIVE, DF::WRITE));
    println!("open . : {}", o(".", OF::empty(), DF::READ));
    println!("open h.txt truncate: {}", o("h.txt", OF::TRUNCATE, DF::WRITE));
    println!("size after truncate: {}", e(dir.stat_at(PF::empty(), "h.txt").map(|s| s.size)));
    println!("open /abs: {}", o("/abs", OF::empty(), DF::READ));
    println!("open ..: {}", o("..", OF::empty(), DF::READ));
    println!("open empty path: {}", o("", OF::empty(), DF::READ));
    println!("open with NUL: {}", o("a\0b", OF::empty(), DF::READ));
    println!("open a 5000-byte path: {}", o(&"a/".repeat(2500), OF::empty(), DF::READ));
    println!("open h.txt/: {}", o("h.txt/", OF::empty(), DF::READ));
    println!("create a dir in a file: {}", u(dir.create_directory_at("h.txt/x")));
    println!("write at offset 2^63: {}", e(f.write(b"x", 1 << 63)));
    let ro = preopen("/ro");
    println!("ro flags: {}", e(ro.get_flags()));
    println!("ro create dir: {}", u(ro.create_directory_at("x")));
    println!("ro open create: {}", e(ro.open_at(PF::empty(), "x", OF::CREATE, DF::READ).map(|_| ())));
    println!("ro open write: {}", e(ro.open_at(PF::empty(), "r.txt", OF::empty(), DF::WRITE).map(|_| ())));
    println!("ro open read: {}", e(ro.open_at(PF::empty(), "r.txt", OF::empty(), DF::READ).map(|_| ())));
    println!("ro unlink: {}", u(ro.unlink_file_at("r.txt")));
    println!("ro set-times-at: {}", u(ro.set_times_at(PF::empty(), "r.txt", NewTimestamp::Now, NewTimestamp::Now)));
    println!("link across preopens: {}", u(dir.link_at(PF::empty(), "h.txt", &preopen("/m2"), "h.txt")));
    println!("rename across preopens: {}", u(dir.rename_at("h.txt", &preopen("/m2"), "h.txt")));
    println!("rename into read-only: {}", u(dir.rename_at("h.txt", &ro, "h.txt")));
}

fn limits_case() {
    let dir = preopen("/m");
    let mut kept = Vec::new();
    loop {
        match dir.open_at(PF::empty(), "data.txt", OF::empty(), DF::READ) {
            Ok(d) => kept.push(d),
            Err(c) => {
                println!("opened {} then: error {}", kept.len(), c.name());
                break;
            }
        }
        if kept.len() > 10_000 {
            println!("no limit");
            break;
        }
    }
    kept.clear();
    println!("after closing: {}", e(dir.open_at(PF::empty(), "data.txt", OF::empty(), DF::READ).map(|_| ())));
}

fn sockets_case() {
    let net = instance_network::instance_network();
    let err = |c: wasip2::sockets::network::ErrorCode| c.name();
    println!("tcp ipv4: {:?}", tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4).map(|_| ()).map_err(err));
    println!("tcp ipv6: {:?}", tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv6).map(|_| ()).map_err(err));
    println!("udp ipv4: {:?}", udp_create_socket::create_udp_socket(IpAddressFamily::Ipv4).map(|_| ()).map_err(err));
    println!("resolve: {:?}", ip_name_lookup::resolve_addresses(&net, "example.com").map(|_| ()).map_err(err));
    // std's networking goes through the same functions.
    println!("std connect: {:?}", std::net::TcpStream::connect("127.0.0.1:80").map(|_| ()).map_err(|e| e.kind()));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("poll") => poll_case(),
        Some("poll-empty") => {
            println!("{:?}", poll(&[]));
        }
        Some("streams") => streams_case(),
        Some("descriptors") => descriptors_case(),
        Some("limits") => limits_case(),
        Some("sockets") => sockets_case(),
        Some("cwd") => println!("initial-cwd: {:?}", environment::initial_cwd()),
        Some("exit-with-code") => {
            let code: u8 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(0);
            wasip2::cli::exit::exit_with_code(code);
        }
        Some("random-huge") => println!("{}", random::get_random_bytes(u64::MAX).len()),
        Some("stdin-huge") => println!("{}", text(stdin::get_stdin().read(u64::MAX)).len()),
        other => {
            eprintln!("probe: unknown case {other:?}");
            std::process::exit(2);
        }
    }
}
