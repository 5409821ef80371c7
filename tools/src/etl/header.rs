//! The logfile header (first record of the first buffer) and timestamp conversion.

use zerocopy::FromBytes;

use super::error::{Error, Result};
use super::format::*;
use super::record::{Record, Records};

/// Time zone facts of the recording machine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimeZone {
    /// Minutes; UTC = local time + bias.
    pub bias_minutes: i32,
    /// Name of standard time.
    pub standard_name: String,
    /// Bias added in standard time (minutes).
    pub standard_bias_minutes: i32,
    /// Name of daylight saving time.
    pub daylight_name: String,
    /// Bias added in daylight saving time (minutes).
    pub daylight_bias_minutes: i32,
}

/// The session clock of the file's timestamps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClockType {
    /// QueryPerformanceCounter, `perf_freq` ticks per second.
    #[default]
    Qpc,
    /// System time: timestamps are FILETIMEs (100 ns since 1601).
    SystemTime,
    /// CPU cycle counter, `cpu_speed_mhz` MHz.
    CpuCycle,
    /// An unknown `ReservedFlags` value (treated like QPC).
    Unknown(u32),
}

impl ClockType {
    /// Name used in output: `qpc`, `system_time`, `cpu_cycle`, `unknown(N)`.
    pub fn name(&self) -> String {
        match self {
            ClockType::Qpc => "qpc".into(),
            ClockType::SystemTime => "system_time".into(),
            ClockType::CpuCycle => "cpu_cycle".into(),
            ClockType::Unknown(n) => format!("unknown({n})"),
        }
    }
}

/// Facts of `TRACE_LOGFILE_HEADER`, with the names decoded.
#[derive(Clone, Debug, Default)]
pub struct LogfileInfo {
    /// Buffer size of the session, in bytes.
    pub buffer_size: u32,
    /// OS major version.
    pub os_major: u8,
    /// OS minor version.
    pub os_minor: u8,
    /// Sub version.
    pub sub_version: u8,
    /// Sub-minor version.
    pub sub_minor_version: u8,
    /// OS build number (`ProviderVersion`).
    pub os_build: u32,
    /// Processors of the recording machine.
    pub number_of_processors: u32,
    /// FILETIME (UTC).
    pub end_time: i64,
    /// 100 ns units.
    pub timer_resolution: u32,
    /// Maximum file size (MB).
    pub maximum_file_size: u32,
    /// `EVENT_TRACE_*` log file mode bits.
    pub log_file_mode: u32,
    /// Buffers written (0 when the logger did not say).
    pub buffers_written: u32,
    /// Pointer size of the logger, in bytes (4 or 8).
    pub pointer_size: u32,
    /// Events the logger lost.
    pub events_lost: u32,
    /// CPU speed in MHz (the frequency of a CPU-cycle clock).
    pub cpu_speed_mhz: u32,
    /// The session (logger) name.
    pub logger_name: String,
    /// The log file name as the logger wrote it.
    pub log_file_name: String,
    /// Time zone facts of the recording machine.
    pub time_zone: TimeZone,
    /// FILETIME (UTC).
    pub boot_time: i64,
    /// Frequency of a QPC session clock (ticks per second).
    pub perf_freq: i64,
    /// FILETIME (UTC).
    pub start_time: i64,
    /// The session clock.
    pub clock_type: ClockType,
    /// Buffers the logger lost.
    pub buffers_lost: u32,
    /// Raw session-clock timestamp of the logfile header event (pairs with `start_time`).
    pub header_timestamp: i64,
    /// Byte offset of the logfile header event.
    pub header_offset: u64,
}

fn utf16_z(data: &[u8]) -> (String, usize) {
    let mut units = Vec::new();
    let mut i = 0;
    while i + 1 < data.len() {
        let u = u16::from_le_bytes([data[i], data[i + 1]]);
        i += 2;
        if u == 0 {
            return (String::from_utf16_lossy(&units), i);
        }
        units.push(u);
    }
    (String::from_utf16_lossy(&units), data.len())
}

fn utf16_fixed(units: &[zerocopy::little_endian::U16]) -> String {
    let v: Vec<u16> = units
        .iter()
        .map(|u| u.get())
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&v)
}

impl LogfileInfo {
    /// Parses the logfile header event from the first buffer's filled bytes.
    pub fn parse(buffer: &[u8], base: u64) -> Result<Self> {
        let mut records = Records::new(buffer, BUFFER_HEADER_SIZE, base);
        let offset = base + BUFFER_HEADER_SIZE as u64;
        let rec = match records.next() {
            Some(Ok(Record::System(r))) if r.hook_id == WMI_LOG_TYPE_HEADER => r,
            Some(Err(e)) => return Err(e),
            _ => {
                return Err(Error::BadLogfileHeader {
                    offset,
                    reason: "the first record is not a logfile header event",
                })
            }
        };
        let p = rec.payload;
        let Ok((base_fields, _)) = TraceLogfileHeaderBase::ref_from_prefix(p) else {
            return Err(Error::BadLogfileHeader {
                offset: rec.offset,
                reason: "the logfile header event is too short",
            });
        };
        let pointer_size = match base_fields.pointer_size.get() {
            4 => 4,
            8 => 8,
            _ if rec.header_type == TRACE_HEADER_TYPE_SYSTEM32 => 4,
            _ => 8,
        };
        let info = if pointer_size == 4 {
            Self::parse_as::<TraceLogfileHeader32>(p)
        } else {
            Self::parse_as::<TraceLogfileHeader64>(p)
        };
        let too_short = Error::BadLogfileHeader {
            offset: rec.offset,
            reason: "the logfile header event is too short",
        };
        let info = info.ok_or(too_short)?;
        Ok(LogfileInfo {
            header_timestamp: rec.timestamp,
            header_offset: rec.offset,
            ..info
        })
    }

    /// The facts of a `TRACE_LOGFILE_HEADER` of pointer size `H::POINTER_SIZE` and the two
    /// names after it, from the logfile header event's payload; `None` if it is too short.
    fn parse_as<H: TraceLogfileHeader>(payload: &[u8]) -> Option<LogfileInfo> {
        let (h, names) = H::ref_from_prefix(payload).ok()?;
        let (b, tail) = (h.base(), h.tail());
        let (logger_name, used) = utf16_z(names);
        let (log_file_name, _) = utf16_z(&names[used..]);
        let tz = &tail.time_zone;
        Some(LogfileInfo {
            buffer_size: b.buffer_size.get(),
            os_major: b.major_version,
            os_minor: b.minor_version,
            sub_version: b.sub_version,
            sub_minor_version: b.sub_minor_version,
            os_build: b.provider_version.get(),
            number_of_processors: b.number_of_processors.get(),
            end_time: b.end_time.get(),
            timer_resolution: b.timer_resolution.get(),
            maximum_file_size: b.maximum_file_size.get(),
            log_file_mode: b.log_file_mode.get(),
            buffers_written: b.buffers_written.get(),
            pointer_size: H::POINTER_SIZE as u32,
            events_lost: b.events_lost.get(),
            cpu_speed_mhz: b.cpu_speed_in_mhz.get(),
            logger_name,
            log_file_name,
            time_zone: TimeZone {
                bias_minutes: tz.bias.get(),
                standard_name: utf16_fixed(&tz.standard_name),
                standard_bias_minutes: tz.standard_bias.get(),
                daylight_name: utf16_fixed(&tz.daylight_name),
                daylight_bias_minutes: tz.daylight_bias.get(),
            },
            boot_time: tail.boot_time.get(),
            perf_freq: tail.perf_freq.get(),
            start_time: tail.start_time.get(),
            clock_type: match tail.reserved_flags.get() {
                CLOCK_TYPE_QPC => ClockType::Qpc,
                CLOCK_TYPE_SYSTEM_TIME => ClockType::SystemTime,
                CLOCK_TYPE_CPU_CYCLE => ClockType::CpuCycle,
                n => ClockType::Unknown(n),
            },
            buffers_lost: tail.buffers_lost.get(),
            header_timestamp: 0,
            header_offset: 0,
        })
    }

    /// `major.minor build N`, the form EXPECTED.jsonl uses.
    pub fn os_version(&self) -> String {
        format!(
            "{}.{} build {}",
            self.os_major, self.os_minor, self.os_build
        )
    }

    /// Ticks per second of the session clock (`None` for system time or a zero frequency).
    pub fn clock_frequency(&self) -> Option<i64> {
        let f = match self.clock_type {
            ClockType::SystemTime => return None,
            ClockType::CpuCycle => self.cpu_speed_mhz as i64 * 1_000_000,
            _ => self.perf_freq,
        };
        (f > 0).then_some(f)
    }

    /// A converter from raw timestamps to FILETIME.
    pub fn clock(&self) -> Clock {
        Clock {
            system_time: self.clock_type == ClockType::SystemTime,
            freq: self.clock_frequency().unwrap_or(10_000_000),
            ref_raw: self.header_timestamp,
            ref_filetime: self.start_time,
            start: self.start_time,
            boot: self.boot_time,
        }
    }
}

/// Converts raw session-clock timestamps to absolute time.
///
/// QPC and CPU-cycle timestamps are anchored at the logfile header event, whose raw timestamp
/// was taken when the session started (`StartTime`): `filetime = StartTime + (raw - header_raw)
/// × 10⁷ / frequency`. System-time timestamps are FILETIMEs already.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    system_time: bool,
    freq: i64,
    ref_raw: i64,
    ref_filetime: i64,
    start: i64,
    boot: i64,
}

impl Clock {
    /// FILETIME (100 ns since 1601-01-01 UTC) of a raw timestamp.
    #[inline]
    pub fn filetime(&self, raw: i64) -> i64 {
        if self.system_time {
            return raw;
        }
        // i64 arithmetic when it cannot overflow (the common case), i128 otherwise: a 128-bit
        // division costs tens of nanoseconds per record.
        let fast = raw.checked_sub(self.ref_raw).and_then(|delta| {
            if self.freq == 10_000_000 {
                self.ref_filetime.checked_add(delta)
            } else {
                delta
                    .checked_mul(10_000_000)
                    .and_then(|scaled| self.ref_filetime.checked_add(scaled / self.freq))
            }
        });
        match fast {
            Some(ft) => ft,
            None => {
                let delta = raw as i128 - self.ref_raw as i128;
                let ft = self.ref_filetime as i128 + delta * 10_000_000 / self.freq as i128;
                ft.clamp(i64::MIN as i128, i64::MAX as i128) as i64
            }
        }
    }

    /// Nanoseconds since the trace start.
    #[inline]
    pub fn since_start_ns(&self, raw: i64) -> i64 {
        if self.system_time {
            return (raw as i128 - self.start as i128)
                .saturating_mul(100)
                .clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        }
        match raw
            .checked_sub(self.ref_raw)
            .and_then(|d| d.checked_mul(1_000_000_000))
        {
            Some(scaled) => scaled / self.freq,
            None => {
                let delta = raw as i128 - self.ref_raw as i128;
                (delta * 1_000_000_000 / self.freq as i128)
                    .clamp(i64::MIN as i128, i64::MAX as i128) as i64
            }
        }
    }

    /// Nanoseconds since boot.
    #[inline]
    pub fn since_boot_ns(&self, raw: i64) -> i64 {
        let base = (self.start as i128 - self.boot as i128) * 100;
        (base + self.since_start_ns(raw) as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }
}

/// Formats a FILETIME as RFC 3339 UTC with 100 ns precision: `2020-02-17T12:48:30.4203130Z`.
pub fn filetime_to_rfc3339(ft: i64) -> String {
    let mut s = String::with_capacity(28);
    write_filetime_rfc3339(&mut s, ft);
    s
}

/// Appends [`filetime_to_rfc3339`] to `out`.
pub fn write_filetime_rfc3339(out: &mut String, ft: i64) {
    use core::fmt::Write;
    // 100 ns ticks between 1601-01-01 and 1970-01-01.
    const EPOCH_DIFF: i64 = 116_444_736_000_000_000;
    let unix_ticks = ft as i128 - EPOCH_DIFF as i128;
    let secs = unix_ticks.div_euclid(10_000_000) as i64;
    let frac = unix_ticks.rem_euclid(10_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        y,
        m,
        d,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        frac
    );
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_formatting() {
        assert_eq!(
            filetime_to_rfc3339(116_444_736_000_000_000),
            "1970-01-01T00:00:00.0000000Z"
        );
        assert_eq!(filetime_to_rfc3339(0), "1601-01-01T00:00:00.0000000Z");
        // AMSITrace.etl StartTime; EXPECTED.jsonl shows it truncated to µs.
        assert_eq!(
            filetime_to_rfc3339(0x01d5e5908e630582),
            "2020-02-17T12:48:30.4203138Z"
        );
        // The extremes format without overflow.
        assert!(filetime_to_rfc3339(i64::MIN).ends_with('Z'));
        assert_eq!(
            filetime_to_rfc3339(i64::MAX),
            "30828-09-14T02:48:05.4775807Z"
        );
    }
}
