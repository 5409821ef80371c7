//! `wsktrace compare BASELINE NEW`: two fleets' figures side by side ([`metrics`]), their
//! deltas, and the gates a CI pipeline sets: no new violations, no metric up by more than a
//! given percentage.
//!
//! A row of the comparison is one metric (`capture_wait.p99`) of one group (`infinite,
//! worker-thread`), or of the whole fleet. A gate on a metric applies to every group of it.
//! A group only in NEW counts as an increase from 0 (a first capture wait on the DriverEntry
//! thread is a regression, whatever the percentage allowed); a group only in BASELINE
//! decreased.

pub mod metrics;

use serde::Serialize;

use self::metrics::{FleetMetrics, RuleCounts, ANY};
use crate::analysis::stats::Summary;

/// What a metric counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Nanoseconds.
    Ns,
    /// A count.
    Count,
}

/// The metrics a gate can name, with their units.
pub const METRICS: &[(&str, Unit)] = &[
    ("files", Unit::Count),
    ("unreadable_files", Unit::Count),
    ("registrations", Unit::Count),
    ("registrations.ok", Unit::Count),
    ("registrations.violation", Unit::Count),
    ("registrations.inconclusive", Unit::Count),
    ("violations", Unit::Count),
    ("inconclusive", Unit::Count),
    ("warnings", Unit::Count),
    ("captures", Unit::Count),
    ("capture_wait.p50", Unit::Ns),
    ("capture_wait.p90", Unit::Ns),
    ("capture_wait.p99", Unit::Ns),
    ("capture_wait.max", Unit::Ns),
    ("driver_entry_duration.p50", Unit::Ns),
    ("driver_entry_duration.p90", Unit::Ns),
    ("driver_entry_duration.p99", Unit::Ns),
    ("driver_entry_duration.max", Unit::Ns),
    ("blocked_on_driver_entry_thread.p50", Unit::Ns),
    ("blocked_on_driver_entry_thread.p90", Unit::Ns),
    ("blocked_on_driver_entry_thread.p99", Unit::Ns),
    ("blocked_on_driver_entry_thread.max", Unit::Ns),
    ("drivers_delayed.p50", Unit::Count),
    ("drivers_delayed.p90", Unit::Count),
    ("drivers_delayed.p99", Unit::Count),
    ("drivers_delayed.max", Unit::Count),
    ("max_delay.p50", Unit::Ns),
    ("max_delay.p90", Unit::Ns),
    ("max_delay.p99", Unit::Ns),
    ("max_delay.max", Unit::Ns),
    ("total_delay.p50", Unit::Ns),
    ("total_delay.p90", Unit::Ns),
    ("total_delay.p99", Unit::Ns),
    ("total_delay.max", Unit::Ns),
];

fn unit_of(metric: &str) -> Unit {
    METRICS
        .iter()
        .find(|m| m.0 == metric)
        .map_or(Unit::Count, |m| m.1)
}

/// The `registrations` table's verdicts and the metrics counting registrations of each. A
/// registration can be inconclusive without a finding (events lost, the file cut short), so
/// these, not the findings' severities, count inconclusive verdicts.
pub const VERDICT_METRICS: [(&str, &str); 3] = [
    ("ok", "registrations.ok"),
    ("violation", "registrations.violation"),
    ("inconclusive", "registrations.inconclusive"),
];

/// One metric of one group, on both sides.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Delta {
    /// Metric name (see [`METRICS`]).
    pub metric: &'static str,
    /// Group (`infinite, worker-thread`; a rule id), or `None` for the whole fleet.
    pub group: Option<String>,
    /// Unit of the values.
    pub unit: Unit,
    /// Baseline value (`None`: the group is not in the baseline).
    pub baseline: Option<u64>,
    /// New value (`None`: the group is not in the new fleet).
    pub new: Option<u64>,
}

impl Delta {
    /// New minus baseline (a missing side counts as 0).
    pub fn change(&self) -> i128 {
        i128::from(self.new.unwrap_or(0)) - i128::from(self.baseline.unwrap_or(0))
    }

    /// The change in percent of the baseline; infinite for an increase from 0.
    pub fn percent(&self) -> f64 {
        match (self.baseline.unwrap_or(0), self.change()) {
            (_, 0) => 0.0,
            (0, _) => f64::INFINITY,
            (b, c) => c as f64 * 100.0 / b as f64,
        }
    }
}

/// A `--max-increase METRIC=PERCENT` gate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MaxIncrease {
    /// Metric name.
    pub metric: &'static str,
    /// Largest increase allowed, percent.
    pub percent: f64,
}

impl std::str::FromStr for MaxIncrease {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, pct) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?}: expected METRIC=PERCENT"))?;
        let metric = METRICS
            .iter()
            .find(|m| m.0 == name)
            .map(|m| m.0)
            .ok_or_else(|| {
                let names: Vec<&str> = METRICS.iter().map(|m| m.0).collect();
                format!("unknown metric {name:?} (one of: {})", names.join(", "))
            })?;
        let percent: f64 = pct
            .trim_end_matches('%')
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite() && *p >= 0.0)
            .ok_or_else(|| format!("{pct:?}: expected a percentage, 0 or more"))?;
        Ok(MaxIncrease { metric, percent })
    }
}

/// The gates of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Gates {
    /// A rule with more violations in NEW than in BASELINE is a regression.
    pub fail_on_new_violations: bool,
    /// Metrics that may not increase by more than their percentage.
    pub max_increase: Vec<MaxIncrease>,
}

/// One gate applied to one row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// `new-violations` or `max-increase`.
    pub gate: &'static str,
    /// The row it judged.
    pub delta: Delta,
    /// The increase allowed, percent (`max-increase`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_percent: Option<f64>,
    /// The row breaks the gate.
    pub regression: bool,
}

/// Two fleets side by side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// The baseline's figures.
    pub baseline: FleetMetrics,
    /// The new fleet's figures.
    pub new: FleetMetrics,
    /// Every metric of every group, in display order.
    pub deltas: Vec<Delta>,
    /// Every gate on every row it applies to.
    pub checks: Vec<Check>,
}

impl Comparison {
    /// Compares `baseline` with `new` under `gates`.
    pub fn of(baseline: FleetMetrics, new: FleetMetrics, gates: &Gates) -> Comparison {
        let deltas = deltas(&baseline, &new);
        let checks = checks(&deltas, gates);
        Comparison {
            baseline,
            new,
            deltas,
            checks,
        }
    }

    /// The rows that broke a gate.
    pub fn regressions(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.regression)
    }
}

fn row(metric: &'static str, group: Option<String>, b: Option<u64>, n: Option<u64>) -> Delta {
    Delta {
        metric,
        group,
        unit: unit_of(metric),
        baseline: b,
        new: n,
    }
}

/// The `<base>.p50`, `.p90`, `.p99` and `.max` metric names (as [`METRICS`] spells them).
fn stat_names(base: &str) -> [&'static str; 4] {
    ["p50", "p90", "p99", "max"].map(|stat| {
        METRICS
            .iter()
            .map(|m| m.0)
            .find(|m| m.strip_prefix(base).and_then(|r| r.strip_prefix('.')) == Some(stat))
            .expect("every distribution metric is listed")
    })
}

/// p50, p90, p99 and max rows of a distribution (`None`: empty on that side).
fn summary_rows(
    out: &mut Vec<Delta>,
    base: &str,
    group: Option<String>,
    b: Option<&Summary>,
    n: Option<&Summary>,
) {
    let pick = |s: Option<&Summary>, k: usize| {
        s.filter(|s| s.count > 0)
            .map(|s| [s.p50, s.p90, s.p99, s.max][k])
    };
    for (k, name) in stat_names(base).into_iter().enumerate() {
        out.push(row(name, group.clone(), pick(b, k), pick(n, k)));
    }
}

/// One count of a rule's findings.
type RuleCount = fn(&RuleCounts) -> u64;
/// One distribution of a fleet's figures.
type Distribution = fn(&FleetMetrics) -> &Summary;

fn deltas(b: &FleetMetrics, n: &FleetMetrics) -> Vec<Delta> {
    let mut out = vec![
        row("files", None, Some(b.files), Some(n.files)),
        row(
            "unreadable_files",
            None,
            Some(b.unreadable_files),
            Some(n.unreadable_files),
        ),
        row(
            "registrations",
            None,
            Some(b.registrations),
            Some(n.registrations),
        ),
    ];
    let verdicts = |m: &FleetMetrics, v: &str| m.verdicts.get(v).copied().unwrap_or(0);
    for (verdict, metric) in VERDICT_METRICS {
        out.push(row(
            metric,
            None,
            Some(verdicts(b, verdict)),
            Some(verdicts(n, verdict)),
        ));
    }
    let total = |m: &FleetMetrics, f: fn(&RuleCounts) -> u64| m.rules.iter().map(f).sum::<u64>();
    let by_rule: [(&'static str, RuleCount); 3] = [
        ("violations", |r| r.violations),
        ("inconclusive", |r| r.inconclusive),
        ("warnings", |r| r.warnings),
    ];
    for (metric, f) in by_rule {
        out.push(row(metric, None, Some(total(b, f)), Some(total(n, f))));
        for rule in union(
            b.rules.iter().map(|r| &r.rule),
            n.rules.iter().map(|r| &r.rule),
        ) {
            let get = |m: &FleetMetrics| m.rules.iter().find(|r| &r.rule == rule).map_or(0, f);
            let (bv, nv) = (get(b), get(n));
            if bv != 0 || nv != 0 {
                out.push(row(metric, Some(rule.clone()), Some(bv), Some(nv)));
            }
        }
    }
    let groups = union(
        b.capture_wait
            .iter()
            .map(|w| (&w.wait_mode, &w.calling_context)),
        n.capture_wait
            .iter()
            .map(|w| (&w.wait_mode, &w.calling_context)),
    );
    for (mode, ctx) in groups {
        let get = |m: &'_ FleetMetrics| -> Option<Summary> {
            m.capture_wait
                .iter()
                .find(|w| &w.wait_mode == mode && &w.calling_context == ctx)
                .map(|w| w.wait.clone())
        };
        let (bs, ns) = (get(b), get(n));
        let group = Some(if ctx == ANY {
            format!("{mode}, any context")
        } else {
            format!("{mode}, {ctx}")
        });
        out.push(row(
            "captures",
            group.clone(),
            bs.as_ref().map(|s| s.count),
            ns.as_ref().map(|s| s.count),
        ));
        summary_rows(&mut out, "capture_wait", group, bs.as_ref(), ns.as_ref());
    }
    let boot: [(&str, Distribution); 5] = [
        ("driver_entry_duration", |m| &m.driver_entry_duration),
        ("blocked_on_driver_entry_thread", |m| {
            &m.blocked_on_driver_entry_thread
        }),
        ("drivers_delayed", |m| &m.drivers_delayed),
        ("max_delay", |m| &m.max_delay),
        ("total_delay", |m| &m.total_delay),
    ];
    for (base, f) in boot {
        summary_rows(&mut out, base, None, Some(f(b)), Some(f(n)));
    }
    out
}

/// The sorted union of two lists of keys.
fn union<T: Ord + Clone>(a: impl Iterator<Item = T>, b: impl Iterator<Item = T>) -> Vec<T> {
    let set: std::collections::BTreeSet<T> = a.chain(b).collect();
    set.into_iter().collect()
}

fn checks(deltas: &[Delta], gates: &Gates) -> Vec<Check> {
    let mut out = Vec::new();
    if gates.fail_on_new_violations {
        for d in deltas
            .iter()
            .filter(|d| d.metric == "violations" && d.group.is_some())
        {
            out.push(Check {
                gate: "new-violations",
                delta: d.clone(),
                limit_percent: None,
                regression: d.change() > 0,
            });
        }
    }
    for g in &gates.max_increase {
        for d in deltas.iter().filter(|d| d.metric == g.metric) {
            let regression = d.new.is_some() && d.percent() > g.percent;
            out.push(Check {
                gate: "max-increase",
                delta: d.clone(),
                limit_percent: Some(g.percent),
                regression,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::metrics::WaitMetric;

    fn summary(v: &[u64]) -> Summary {
        Summary::of(&mut v.to_vec())
    }

    fn fleet(wait_ms: u64, ctx: &str, violations: u64) -> FleetMetrics {
        FleetMetrics {
            files: 10,
            registrations: 10,
            rules: vec![RuleCounts {
                rule: "double-release".into(),
                violations,
                ..Default::default()
            }],
            capture_wait: vec![WaitMetric {
                wait_mode: "infinite".into(),
                calling_context: ctx.into(),
                wait: summary(&[wait_ms * 1_000_000]),
            }],
            driver_entry_duration: summary(&[1_000_000]),
            ..Default::default()
        }
    }

    #[test]
    fn gates() {
        let gates = Gates {
            fail_on_new_violations: true,
            max_increase: vec!["capture_wait.p99=10".parse().unwrap()],
        };
        // Same figures: nothing breaks.
        let same = Comparison::of(
            fleet(100, "worker-thread", 1),
            fleet(100, "worker-thread", 1),
            &gates,
        );
        assert_eq!(same.regressions().count(), 0);
        assert!(!same.checks.is_empty());
        // +5 %: within the limit; one more violation: a regression.
        let c = Comparison::of(
            fleet(100, "worker-thread", 1),
            fleet(105, "worker-thread", 2),
            &gates,
        );
        let broke: Vec<_> = c.regressions().map(|c| c.gate).collect();
        assert_eq!(broke, ["new-violations"]);
        // +20 %: over it.
        let c = Comparison::of(
            fleet(100, "worker-thread", 1),
            fleet(120, "worker-thread", 1),
            &gates,
        );
        assert_eq!(c.regressions().count(), 1);
        // A group only in NEW is an increase from 0; one only in the baseline is not.
        let c = Comparison::of(
            fleet(100, "worker-thread", 0),
            fleet(100, "driver-entry-thread", 0),
            &gates,
        );
        let broke: Vec<_> = c.regressions().map(|c| c.delta.group.clone()).collect();
        assert_eq!(broke, [Some("infinite, driver-entry-thread".to_string())]);
    }

    #[test]
    fn verdicts_are_compared_without_findings() {
        let mut base = fleet(100, "worker-thread", 0);
        base.verdicts = [("ok".to_string(), 10)].into();
        let mut new = base.clone();
        new.verdicts = [("ok".to_string(), 9), ("inconclusive".to_string(), 1)].into();
        let gates = Gates {
            max_increase: vec!["registrations.inconclusive=0".parse().unwrap()],
            ..Default::default()
        };
        let c = Comparison::of(base, new, &gates);
        let get = |metric: &str| {
            let d = c.deltas.iter().find(|d| d.metric == metric).unwrap();
            (d.baseline, d.new)
        };
        assert_eq!(get("registrations.ok"), (Some(10), Some(9)));
        assert_eq!(get("registrations.inconclusive"), (Some(0), Some(1)));
        assert_eq!(get("registrations.violation"), (Some(0), Some(0)));
        // No inconclusive finding on either side.
        assert_eq!(get("inconclusive"), (Some(0), Some(0)));
        let broke: Vec<_> = c.regressions().map(|c| c.delta.metric).collect();
        assert_eq!(broke, ["registrations.inconclusive"]);
        for (_, metric) in VERDICT_METRICS {
            let gate: MaxIncrease = format!("{metric}=0").parse().unwrap();
            assert_eq!(gate.metric, metric);
        }
    }

    #[test]
    fn gate_syntax() {
        let g: MaxIncrease = "driver_entry_duration.p99=12.5%".parse().unwrap();
        assert_eq!((g.metric, g.percent), ("driver_entry_duration.p99", 12.5));
        assert!("nope.p99=1"
            .parse::<MaxIncrease>()
            .unwrap_err()
            .contains("one of"));
        assert!("capture_wait.p99".parse::<MaxIncrease>().is_err());
        assert!("capture_wait.p99=-1".parse::<MaxIncrease>().is_err());
        assert!("capture_wait.p99=inf".parse::<MaxIncrease>().is_err());
    }

    #[test]
    fn percent() {
        let d = row("capture_wait.p99", None, Some(200), Some(250));
        assert_eq!(d.percent(), 25.0);
        assert_eq!(
            row("files", None, Some(0), Some(1)).percent(),
            f64::INFINITY
        );
        assert_eq!(row("files", None, None, None).percent(), 0.0);
        assert_eq!(row("files", None, Some(4), Some(2)).change(), -2);
    }
}
