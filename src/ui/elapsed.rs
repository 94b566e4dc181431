//! How long something took, written for people: `0.4s`, `3.2s`, `1m05s`, `2h03m`.

use std::time::Duration;

/// `elapsed` to a tenth of a second under a minute, to the second under an hour, to the minute above.
pub(crate) fn precise(elapsed: Duration) -> String {
    if elapsed < Duration::from_secs(60) {
        format!("{}.{}s", elapsed.as_secs(), elapsed.subsec_millis() / 100)
    } else {
        whole(elapsed)
    }
}

/// `elapsed` in whole seconds, minutes and hours, for a line that redraws every tick.
pub(crate) fn whole(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(precise(Duration::from_millis(3_249)), "3.2s");
        assert_eq!(precise(Duration::from_millis(40)), "0.0s");
        assert_eq!(precise(Duration::from_secs(65)), "1m05s");
        assert_eq!(whole(Duration::from_millis(59_900)), "59s");
        assert_eq!(whole(Duration::from_secs(7_380)), "2h03m");
    }
}
