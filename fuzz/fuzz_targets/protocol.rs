//! The daemon's request and response decoders on arbitrary bytes: decode,
//! and whatever decodes must encode back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use umod_client::protocol::{Request, Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = Request::decode(data) {
        assert_eq!(req.encode(), data);
    }
    if let Ok(resp) = Response::decode(data) {
        assert_eq!(resp.encode(), data);
    }
});
