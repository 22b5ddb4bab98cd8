//! `wasi:sockets`: every interface of the command world, linked and
//! denying. `instance-network` hands out a `network` (it has no methods);
//! creating a TCP or UDP socket fails with `access-denied`, and so does
//! resolving a name. Since the host never creates a socket or a
//! resolve-address stream, their methods can only be reached with handles
//! that do not exist (the runtime traps on those before the host is
//! called); the ones that return a `result` still answer `access-denied`.

use alloc::string::String;
use alloc::vec::Vec;
use componentry::{
    ComponentType, Error, Lift, Linker, LinkerInstance, Lower, Resource, Result, StoreContextMut,
    TrapKind,
};

use crate::io::V;
use crate::table::markers::{
    IncomingDatagramStream as InDgram, InputStream, IoError, Network,
    OutgoingDatagramStream as OutDgram, OutputStream, Pollable, ResolveAddressStream as Resolve,
    TcpSocket as Tcp, UdpSocket as Udp,
};
use crate::table::{define, wrong_kind, Entry};
use crate::WasiView;

/// WIT `wasi:sockets/network.error-code`.
#[allow(missing_docs)]
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketErrorCode {
    Unknown,
    AccessDenied,
    NotSupported,
    InvalidArgument,
    OutOfMemory,
    Timeout,
    ConcurrencyConflict,
    NotInProgress,
    WouldBlock,
    InvalidState,
    NewSocketLimit,
    AddressNotBindable,
    AddressInUse,
    RemoteUnreachable,
    ConnectionRefused,
    ConnectionReset,
    ConnectionAborted,
    DatagramTooLarge,
    NameUnresolvable,
    TemporaryResolverFailure,
    PermanentResolverFailure,
}

/// WIT `ip-address-family`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
enum IpAddressFamily {
    Ipv4,
    Ipv6,
}

/// WIT `ip-address`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
enum IpAddress {
    Ipv4((u8, u8, u8, u8)),
    Ipv6((u16, u16, u16, u16, u16, u16, u16, u16)),
}

/// WIT `ipv4-socket-address`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
struct Ipv4SocketAddress {
    port: u16,
    address: (u8, u8, u8, u8),
}

/// WIT `ipv6-socket-address`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
struct Ipv6SocketAddress {
    port: u16,
    flow_info: u32,
    address: (u16, u16, u16, u16, u16, u16, u16, u16),
    scope_id: u32,
}

/// WIT `ip-socket-address`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
enum IpSocketAddress {
    Ipv4(Ipv4SocketAddress),
    Ipv6(Ipv6SocketAddress),
}

/// WIT `shutdown-type`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
enum ShutdownType {
    Receive,
    Send,
    Both,
}

/// WIT `incoming-datagram`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
struct IncomingDatagram {
    data: Vec<u8>,
    remote_address: IpSocketAddress,
}

/// WIT `outgoing-datagram`.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
struct OutgoingDatagram {
    data: Vec<u8>,
    remote_address: Option<IpSocketAddress>,
}

type SockResult<R> = Result<core::result::Result<R, SocketErrorCode>>;

fn denied<R>() -> SockResult<R> {
    Ok(Err(SocketErrorCode::AccessDenied))
}

/// For the few methods without a `result`: unreachable, as no socket exists.
fn no_socket() -> Error {
    Error::trap(
        TrapKind::InvalidHandle,
        "wasi:sockets: this host creates no sockets",
    )
}

/// Defines `[method]{res}.{name}` answering `access-denied`, for methods
/// taking only `self`.
fn deny0<T: WasiView, M: 'static, R>(
    i: &mut LinkerInstance<'_, T>,
    res: &str,
    name: &str,
) -> Result<()>
where
    R: ComponentType + Lower + 'static,
{
    i.func_wrap(
        &alloc::format!("[method]{res}.{name}"),
        |_cx: StoreContextMut<'_, T>, (_s,): (Resource<M>,)| -> SockResult<R> { denied() },
    )
}

/// Like [`deny0`], for methods taking `self` and one more parameter.
fn deny1<T: WasiView, M: 'static, P, R>(
    i: &mut LinkerInstance<'_, T>,
    res: &str,
    name: &str,
) -> Result<()>
where
    P: ComponentType + Lift + 'static,
    R: ComponentType + Lower + 'static,
{
    i.func_wrap(
        &alloc::format!("[method]{res}.{name}"),
        |_cx: StoreContextMut<'_, T>, (_s, _p): (Resource<M>, P)| -> SockResult<R> { denied() },
    )
}

/// A socket's or stream's `subscribe`: a pollable that is always ready.
fn subscribe<T: WasiView, M: 'static>(i: &mut LinkerInstance<'_, T>, res: &str) -> Result<()> {
    i.func_wrap(
        &alloc::format!("[method]{res}.subscribe"),
        |mut cx: StoreContextMut<'_, T>, (_s,): (Resource<M>,)| {
            crate::io::new_pollable(cx.data_mut().wasi(), crate::table::Poll::Ready)
        },
    )
}

/// Links the `wasi:sockets` interfaces of the command world.
pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) -> Result<()> {
    {
        let mut i = linker.instance(&alloc::format!("wasi:sockets/network{V}"))?;
        define::<T, Network>(&mut i, "network")?;
        define::<T, IoError>(&mut i, "error")?;
        // No socket operation ever fails with a stored error: only the
        // errors of other interfaces exist, and they carry no socket code.
        i.func_wrap(
            "network-error-code",
            |mut cx: StoreContextMut<'_, T>, (e,): (Resource<IoError>,)| match cx
                .data_mut()
                .wasi()
                .table
                .get(&e)?
            {
                Entry::Error { .. } => Ok(None::<SocketErrorCode>),
                _ => Err(wrong_kind()),
            },
        )?;
    }
    {
        let mut i = linker.instance(&alloc::format!("wasi:sockets/instance-network{V}"))?;
        define::<T, Network>(&mut i, "network")?;
        i.func_wrap(
            "instance-network",
            |mut cx: StoreContextMut<'_, T>, (): ()| -> Result<Resource<Network>> {
                cx.data_mut().wasi().table.push(Entry::Network)
            },
        )?;
    }
    {
        let mut i = linker.instance(&alloc::format!("wasi:sockets/ip-name-lookup{V}"))?;
        define::<T, Pollable>(&mut i, "pollable")?;
        define::<T, Network>(&mut i, "network")?;
        define::<T, Resolve>(&mut i, "resolve-address-stream")?;
        i.func_wrap(
            "resolve-addresses",
            |_cx: StoreContextMut<'_, T>,
             (_n, _name): (Resource<Network>, String)|
             -> SockResult<Resource<Resolve>> { denied() },
        )?;
        deny0::<T, Resolve, Option<IpAddress>>(
            &mut i,
            "resolve-address-stream",
            "resolve-next-address",
        )?;
        subscribe::<T, Resolve>(&mut i, "resolve-address-stream")?;
    }
    {
        let mut i = linker.instance(&alloc::format!("wasi:sockets/tcp{V}"))?;
        define::<T, InputStream>(&mut i, "input-stream")?;
        define::<T, OutputStream>(&mut i, "output-stream")?;
        define::<T, Pollable>(&mut i, "pollable")?;
        define::<T, Network>(&mut i, "network")?;
        define::<T, Tcp>(&mut i, "tcp-socket")?;
        let r = "tcp-socket";
        for name in ["start-bind", "start-connect"] {
            i.func_wrap(
                &alloc::format!("[method]{r}.{name}"),
                |_cx: StoreContextMut<'_, T>,
                 (_s, _n, _a): (Resource<Tcp>, Resource<Network>, IpSocketAddress)|
                 -> SockResult<()> { denied() },
            )?;
        }
        for name in ["finish-bind", "start-listen", "finish-listen"] {
            deny0::<T, Tcp, ()>(&mut i, r, name)?;
        }
        deny0::<T, Tcp, (Resource<InputStream>, Resource<OutputStream>)>(
            &mut i,
            r,
            "finish-connect",
        )?;
        deny0::<T, Tcp, (Resource<Tcp>, Resource<InputStream>, Resource<OutputStream>)>(
            &mut i, r, "accept",
        )?;
        deny0::<T, Tcp, IpSocketAddress>(&mut i, r, "local-address")?;
        deny0::<T, Tcp, IpSocketAddress>(&mut i, r, "remote-address")?;
        i.func_wrap(
            "[method]tcp-socket.is-listening",
            |_cx: StoreContextMut<'_, T>, (_s,): (Resource<Tcp>,)| -> Result<bool> {
                Err(no_socket())
            },
        )?;
        i.func_wrap(
            "[method]tcp-socket.address-family",
            |_cx: StoreContextMut<'_, T>, (_s,): (Resource<Tcp>,)| -> Result<IpAddressFamily> {
                Err(no_socket())
            },
        )?;
        deny1::<T, Tcp, u64, ()>(&mut i, r, "set-listen-backlog-size")?;
        deny0::<T, Tcp, bool>(&mut i, r, "keep-alive-enabled")?;
        deny1::<T, Tcp, bool, ()>(&mut i, r, "set-keep-alive-enabled")?;
        for name in [
            "keep-alive-idle-time",
            "keep-alive-interval",
            "receive-buffer-size",
            "send-buffer-size",
        ] {
            deny0::<T, Tcp, u64>(&mut i, r, name)?;
            deny1::<T, Tcp, u64, ()>(&mut i, r, &alloc::format!("set-{name}"))?;
        }
        deny0::<T, Tcp, u32>(&mut i, r, "keep-alive-count")?;
        deny1::<T, Tcp, u32, ()>(&mut i, r, "set-keep-alive-count")?;
        deny0::<T, Tcp, u8>(&mut i, r, "hop-limit")?;
        deny1::<T, Tcp, u8, ()>(&mut i, r, "set-hop-limit")?;
        subscribe::<T, Tcp>(&mut i, r)?;
        deny1::<T, Tcp, ShutdownType, ()>(&mut i, r, "shutdown")?;
    }
    {
        let mut i = linker.instance(&alloc::format!("wasi:sockets/tcp-create-socket{V}"))?;
        define::<T, Network>(&mut i, "network")?;
        define::<T, Tcp>(&mut i, "tcp-socket")?;
        i.func_wrap(
            "create-tcp-socket",
            |_cx: StoreContextMut<'_, T>, (_f,): (IpAddressFamily,)| -> SockResult<Resource<Tcp>> {
                denied()
            },
        )?;
    }
    {
        let mut i = linker.instance(&alloc::format!("wasi:sockets/udp{V}"))?;
        define::<T, Pollable>(&mut i, "pollable")?;
        define::<T, Network>(&mut i, "network")?;
        define::<T, Udp>(&mut i, "udp-socket")?;
        define::<T, InDgram>(&mut i, "incoming-datagram-stream")?;
        define::<T, OutDgram>(&mut i, "outgoing-datagram-stream")?;
        let r = "udp-socket";
        i.func_wrap(
            "[method]udp-socket.start-bind",
            |_cx: StoreContextMut<'_, T>,
             (_s, _n, _a): (Resource<Udp>, Resource<Network>, IpSocketAddress)|
             -> SockResult<()> { denied() },
        )?;
        deny0::<T, Udp, ()>(&mut i, r, "finish-bind")?;
        deny1::<T, Udp, Option<IpSocketAddress>, (Resource<InDgram>, Resource<OutDgram>)>(
            &mut i, r, "stream",
        )?;
        deny0::<T, Udp, IpSocketAddress>(&mut i, r, "local-address")?;
        deny0::<T, Udp, IpSocketAddress>(&mut i, r, "remote-address")?;
        i.func_wrap(
            "[method]udp-socket.address-family",
            |_cx: StoreContextMut<'_, T>, (_s,): (Resource<Udp>,)| -> Result<IpAddressFamily> {
                Err(no_socket())
            },
        )?;
        deny0::<T, Udp, u8>(&mut i, r, "unicast-hop-limit")?;
        deny1::<T, Udp, u8, ()>(&mut i, r, "set-unicast-hop-limit")?;
        for name in ["receive-buffer-size", "send-buffer-size"] {
            deny0::<T, Udp, u64>(&mut i, r, name)?;
            deny1::<T, Udp, u64, ()>(&mut i, r, &alloc::format!("set-{name}"))?;
        }
        subscribe::<T, Udp>(&mut i, r)?;
        deny1::<T, InDgram, u64, Vec<IncomingDatagram>>(
            &mut i,
            "incoming-datagram-stream",
            "receive",
        )?;
        subscribe::<T, InDgram>(&mut i, "incoming-datagram-stream")?;
        deny0::<T, OutDgram, u64>(&mut i, "outgoing-datagram-stream", "check-send")?;
        deny1::<T, OutDgram, Vec<OutgoingDatagram>, u64>(
            &mut i,
            "outgoing-datagram-stream",
            "send",
        )?;
        subscribe::<T, OutDgram>(&mut i, "outgoing-datagram-stream")?;
    }
    {
        let mut i = linker.instance(&alloc::format!("wasi:sockets/udp-create-socket{V}"))?;
        define::<T, Network>(&mut i, "network")?;
        define::<T, Udp>(&mut i, "udp-socket")?;
        i.func_wrap(
            "create-udp-socket",
            |_cx: StoreContextMut<'_, T>, (_f,): (IpAddressFamily,)| -> SockResult<Resource<Udp>> {
                denied()
            },
        )?;
    }
    Ok(())
}
