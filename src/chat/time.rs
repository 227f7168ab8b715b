//! Times as people read them, in their own time zone: "14:05" (`%H:%M`) and " 6 May" (`%e %b`).
//! The browser asks JavaScript's `Date`: chrono's strftime formatting and its time-zone lookup
//! would add 12 KB to the WASM (5 KB gzip) for two fixed patterns. The server keeps chrono (it
//! renders no times: messages and presence arrive in the browser); both give the same text.

use chrono::{DateTime, Utc};

#[cfg(feature = "hydrate")]
fn local(at: DateTime<Utc>) -> js_sys::Date {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64
    ))
}

/// Hours and minutes, both two digits: "09:05".
pub fn clock(at: DateTime<Utc>) -> String {
    #[cfg(feature = "hydrate")]
    {
        let at = local(at);
        format!("{:02}:{:02}", at.get_hours(), at.get_minutes())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        at.with_timezone(&chrono::Local).format("%H:%M").to_string()
    }
}

/// Day of the month (space-padded to two) and the English month abbreviation: " 6 May".
pub fn day_month(at: DateTime<Utc>) -> String {
    #[cfg(feature = "hydrate")]
    {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let at = local(at);
        let month = MONTHS.get(at.get_month() as usize).copied().unwrap_or("");
        format!("{:>2} {month}", at.get_date())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        at.with_timezone(&chrono::Local).format("%e %b").to_string()
    }
}
