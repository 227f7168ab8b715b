//! The JSON request bodies of the HTTP API and every validator behind them: any bytes decode
//! to a value or an error, never a panic, and validation of what decodes never panics either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use parley::model::{
    ChannelName, DisplayName, HistoryQuery, MessageEdit, MessageText, NewChannel, NewMessage,
    ReadUpTo, Username,
};
use parley_demo::model::{LoginInput, Password, SignupInput};

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = serde_json::from_slice::<SignupInput>(data) {
        let _ = input.parse();
    }
    if let Ok(input) = serde_json::from_slice::<LoginInput>(data) {
        let _ = Username::parse(&input.username);
    }
    if let Ok(input) = serde_json::from_slice::<NewMessage>(data) {
        let _ = MessageText::parse(&input.text);
    }
    if let Ok(input) = serde_json::from_slice::<MessageEdit>(data) {
        let _ = MessageText::parse(&input.text);
    }
    if let Ok(input) = serde_json::from_slice::<NewChannel>(data) {
        if let Some(name) = &input.name {
            let _ = ChannelName::parse(name);
        }
    }
    let _ = serde_json::from_slice::<ReadUpTo>(data);
    let _ = serde_json::from_slice::<HistoryQuery>(data);
    // Every validator on the raw text as well.
    let text = String::from_utf8_lossy(data);
    let _ = MessageText::parse(&text);
    let _ = ChannelName::parse(&text);
    let _ = DisplayName::parse(&text);
    let _ = Username::parse(&text);
    let _ = Password::parse(&text);
});
