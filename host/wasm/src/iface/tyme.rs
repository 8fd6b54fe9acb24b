//! Host side of the `tyme` interface: the tyme and tock the host set for
//! the call, and the tock the doer asks for next.

use wasmtime::component::HasData;

use crate::bindings::hio::doer::tyme::Host;
use crate::wasi::TymeCell;

/// The view of a doer's store `tyme` is implemented on.
pub(crate) struct TymeView<'a> {
    /// Tyme and this doer's tock as the host set them for the call.
    pub tyme: &'a TymeCell,
    /// The tock the guest set during the call, if it did.
    pub tock_set: &'a mut Option<f64>,
}

/// `tyme` in the linker: calls on a [`TymeView`].
pub(crate) struct Tyme;

impl HasData for Tyme {
    type Data<'a> = TymeView<'a>;
}

impl Host for TymeView<'_> {
    fn now(&mut self) -> f64 {
        self.tyme.get()
    }

    fn tock(&mut self) -> f64 {
        self.tock_set.unwrap_or_else(|| self.tyme.tock())
    }

    fn set_tock(&mut self, tock: f64) -> Result<(), String> {
        if !(tock.is_finite() && tock >= 0.0) {
            return Err(format!("bad tock {tock}: a tock is finite and >= 0"));
        }
        crate::charge::touch();
        *self.tock_set = Some(tock);
        Ok(())
    }
}
