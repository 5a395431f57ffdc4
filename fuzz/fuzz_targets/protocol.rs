//! The daemon's request and response decoders on arbitrary bytes: what
//! decodes encodes back to an equal value, and decoding allocates no more
//! than the bytes it was given allow (postcard's lengths are checked
//! against the input; lists of a request are bounded before allocation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use umod_client::protocol::{Request, Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = Request::decode(data) {
        assert_eq!(Request::decode(&req.encode()).unwrap(), req);
    }
    if let Ok(resp) = Response::decode(data) {
        assert_eq!(Response::decode(&resp.encode()).unwrap(), resp);
    }
});
