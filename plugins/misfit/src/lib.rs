//! Imports `test:misfit/nope`, which no hio host offers: loading it must
//! fail with an error that names the import.

wit_bindgen::generate!({
    inline: "
        package test:misfit;
        interface nope { poke: func(); }
        world misfit {
            import nope;
            export recur: func(tyme: f64) -> result<bool, string>;
        }
    ",
});

struct Misfit;

impl Guest for Misfit {
    fn recur(_tyme: f64) -> Result<bool, String> {
        test::misfit::nope::poke();
        Ok(true)
    }
}

export!(Misfit);
