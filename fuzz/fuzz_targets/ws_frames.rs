//! WebSocket frames, both directions: decoding any bytes never panics, and whatever decodes
//! survives a round trip unchanged (so what the server reads is what the client meant).

#![no_main]

use libfuzzer_sys::fuzz_target;
use parley::model::{ClientEvent, MessageText, ServerEvent};

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = serde_json::from_slice::<ClientEvent>(data) {
        let encoded = serde_json::to_vec(&event).expect("a decoded event encodes");
        let decoded: ClientEvent = serde_json::from_slice(&encoded).expect("and decodes again");
        assert_eq!(event, decoded);
        if let ClientEvent::Send { text, .. } = &event {
            let _ = MessageText::parse(text);
        }
    }
    if let Ok(event) = serde_json::from_slice::<ServerEvent>(data) {
        let encoded = serde_json::to_vec(&event).expect("a decoded event encodes");
        let decoded: ServerEvent = serde_json::from_slice(&encoded).expect("and decodes again");
        assert_eq!(event, decoded);
    }
});
