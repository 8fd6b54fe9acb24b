//! Each fault of the simulated network, observed through the public API.
