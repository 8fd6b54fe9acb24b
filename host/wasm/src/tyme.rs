//! Host side of the `tyme` interface.

use crate::bindings::hio::doer::tyme::Host;
use crate::store::StoreData;

impl Host for StoreData {
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
        self.tock_set = Some(tock);
        Ok(())
    }
}
