//! [`Buf`]: a connection's byte queue, contiguous so that every read and
//! write moves one slice with one copy (or one system call).

thread_local! {
    /// Where reads land before they are appended (grown to the largest read).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Storage an empty buffer keeps rather than give back.
const KEEP: usize = 4 << 10;

/// Bytes in `data[head..]`; taken from the front, added at the back. Its
/// owner keeps it within the connection's buffer size.
#[derive(Debug, Default)]
pub(crate) struct Buf {
    data: Vec<u8>,
    head: usize,
}

impl Buf {
    pub fn len(&self) -> usize {
        self.data.len() - self.head
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes waiting, oldest first.
    pub fn bytes(&self) -> &[u8] {
        &self.data[self.head..]
    }

    /// Drops the first `n` bytes.
    pub fn consume(&mut self, n: usize) {
        self.head = (self.head + n).min(self.data.len());
        if self.head == self.data.len() {
            self.release();
        }
    }

    /// Empties it, and gives its storage back when it is more than a
    /// little: an idle connection holds no buffer memory.
    fn release(&mut self) {
        self.head = 0;
        if self.data.capacity() > KEEP {
            self.data = Vec::new();
        } else {
            self.data.clear();
        }
    }

    /// Moves what is waiting to the front, so `extra` more bytes fit after
    /// it without the vector growing past what it holds.
    fn make_room(&mut self, extra: usize) {
        if self.head > 0 && self.data.len() + extra > self.data.capacity() {
            self.data.copy_within(self.head.., 0);
            self.data.truncate(self.data.len() - self.head);
            self.head = 0;
        }
    }

    /// Appends `bytes`.
    pub fn push(&mut self, bytes: &[u8]) {
        self.make_room(bytes.len());
        // Exactly: the storage never outgrows what the owner lets it hold.
        self.data.reserve_exact(bytes.len());
        self.data.extend_from_slice(bytes);
    }

    /// Appends up to `n` bytes that `fill` writes into the space it is
    /// given, returning how many it wrote (or its error). The space is a
    /// scratch buffer of this thread's, so a read of a few bytes costs a
    /// copy of a few bytes (not the zeroing of `n`).
    pub fn fill<E>(
        &mut self,
        n: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<usize, E>,
    ) -> Result<usize, E> {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            if scratch.len() < n {
                scratch.resize(n, 0);
            }
            let r = fill(&mut scratch[..n]);
            if let Ok(k) = &r {
                let k = (*k).min(n);
                if k > 0 {
                    self.push(&scratch[..k]);
                }
            }
            if self.is_empty() {
                self.release();
            }
            r
        })
    }

    /// Bytes of storage it holds (for accounting).
    pub fn capacity(&self) -> usize {
        self.data.capacity()
    }

    /// Takes up to `max` bytes from the front.
    pub fn take(&mut self, max: usize) -> Vec<u8> {
        let n = max.min(self.len());
        let out = self.bytes()[..n].to_vec();
        self.consume(n);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Buf;

    #[test]
    fn bytes_come_out_in_order_and_the_storage_is_reused() {
        let mut b = Buf::default();
        b.push(b"hello ");
        let got = b.fill(8, |room| {
            room[..5].copy_from_slice(b"world");
            Ok::<_, ()>(5)
        });
        assert_eq!(got, Ok(5));
        assert_eq!(b.take(3), b"hel");
        assert_eq!(b.bytes(), b"lo world");
        // A queue that never holds more than a few bytes never grows,
        // however many pass through it.
        let cap = b.data.capacity();
        for _ in 0..1000 {
            let front = b.take(3);
            b.push(&front);
        }
        assert!(
            b.data.capacity() <= cap * 2,
            "grew to {}",
            b.data.capacity()
        );
        // 1000 rotations by 3 of 8 bytes: 3000 mod 8 = 0, back where it was.
        assert_eq!(b.bytes(), b"lo world");
        b.consume(100);
        assert!(b.is_empty());
        assert_eq!(b.fill(4, |_| Err("no")), Err("no"));
        assert!(b.is_empty());
        // Emptied, a large buffer gives its storage back.
        b.push(&[1; 64 << 10]);
        assert!(b.capacity() >= 64 << 10);
        b.consume(64 << 10);
        assert_eq!(b.capacity(), 0);
        assert_eq!(b.fill(64 << 10, |_| Ok::<_, ()>(0)), Ok(0));
        assert_eq!(b.capacity(), 0, "an empty read keeps nothing");
    }
}
