//! The steps a doer's calls on a server's request and on an outgoing
//! request share: find the item and its connection, frame a body piece
//! into the connection's send buffer as far as it has room, read the body
//! that arrived.

use super::http_tables::{Exchange, HttpTables};
use super::registry::Inner;
use crate::conn::Conn;
use crate::http::HttpError;

impl Inner {
    /// Runs `f` on the item `find` picks out of the HTTP tables and on its
    /// connection, each looked up once; `None` when either is gone.
    pub(super) fn on_exchange<T: Exchange, R>(
        &mut self,
        find: impl FnOnce(&mut HttpTables) -> Option<&mut T>,
        f: impl FnOnce(&mut T, &mut Conn) -> R,
    ) -> Option<R> {
        let Inner { conns, http, .. } = self;
        let item = find(http)?;
        let c = conns.get_mut(&item.conn())?;
        Some(f(item, c))
    }

    /// Takes up to `max` body bytes of the item `find` picks. When more of
    /// the body waits (decoded next pass, or in the socket), the next pass
    /// is due now.
    pub(super) fn read_body<T: Exchange>(
        &mut self,
        find: impl FnOnce(&mut HttpTables) -> Option<&mut T>,
        max: usize,
    ) -> Vec<u8> {
        let Inner {
            conns,
            http,
            doer_made_room,
            ..
        } = self;
        let Some(item) = find(http) else {
            return Vec::new();
        };
        let bytes = item.body().take(max);
        let more = item.more_to_come()
            && conns
                .get(&item.conn())
                .is_some_and(|c| !c.recv.is_empty() || c.can_take_more());
        if !bytes.is_empty() && more {
            *doer_made_room = true;
        }
        bytes
    }
}

/// Frames what fits of `bytes` with `frame` into `c`'s send buffer;
/// returns how many of `bytes` it took (none when the buffer is full or
/// the framing refuses).
pub(super) fn write_framed(
    c: &mut Conn,
    bytes: &[u8],
    frame: impl FnOnce(&[u8]) -> Result<Vec<u8>, HttpError>,
) -> usize {
    let n = c.room().min(bytes.len());
    if n == 0 {
        return 0;
    }
    match frame(&bytes[..n]) {
        Ok(framed) => {
            c.send.push(&framed);
            n
        }
        Err(_) => 0,
    }
}
