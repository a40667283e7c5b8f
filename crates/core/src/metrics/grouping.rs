//! Groupings of samples: sensitive attributes, their intersections and the standard set.

/// A way to split samples into groups: a name, each sample's group id (`usize::MAX` = unknown,
/// left out) and the group names.
#[derive(Clone, Debug, PartialEq)]
pub struct Grouping {
    /// What the groups are, e.g. `skin type (I–III / IV–VI)`.
    pub attribute: String,
    /// Group id per sample.
    pub ids: Vec<usize>,
    /// Group names by id.
    pub names: Vec<String>,
}

impl Grouping {
    /// The intersection of two groupings (e.g. skin × sex): one group per pair of ids that some
    /// sample has, in the order of the pairs (so two attributes of many values each make as many
    /// groups as there are samples at most, not the product of their counts).
    pub fn intersect(&self, other: &Grouping) -> Grouping {
        let pairs: std::collections::BTreeSet<(usize, usize)> = self
            .ids
            .iter()
            .zip(&other.ids)
            .filter(|(a, b)| **a < self.names.len() && **b < other.names.len())
            .map(|(a, b)| (*a, *b))
            .collect();
        let id: std::collections::HashMap<(usize, usize), usize> =
            pairs.iter().enumerate().map(|(k, p)| (*p, k)).collect();
        let names = pairs
            .iter()
            .map(|(a, b)| format!("{} · {}", self.names[*a], other.names[*b]))
            .collect();
        let ids = self
            .ids
            .iter()
            .zip(&other.ids)
            .map(|(a, b)| id.get(&(*a, *b)).copied().unwrap_or(usize::MAX))
            .collect();
        Grouping {
            attribute: format!("{} × {}", self.attribute, other.attribute),
            ids,
            names,
        }
    }
}

/// Roman numerals of the Fitzpatrick types I–VI.
const ROMAN: [&str; 6] = ["I", "II", "III", "IV", "V", "VI"];

/// The standard groupings of an evaluation subset: skin type in two groups (I–III / IV–VI) and
/// in six, sex, and skin group × sex. Unknown values are left out.
pub fn standard_groupings(skin_types: &[u8], sexes: &[u8], sex_names: &[String]) -> Vec<Grouping> {
    let skin2 = Grouping {
        attribute: "skin type (I–III / IV–VI)".into(),
        ids: skin_types
            .iter()
            .map(|t| match t {
                1..=3 => 0,
                4..=6 => 1,
                _ => usize::MAX,
            })
            .collect(),
        names: vec!["Fitzpatrick I–III".into(), "Fitzpatrick IV–VI".into()],
    };
    let skin6 = Grouping {
        attribute: "skin type (Fitzpatrick I–VI)".into(),
        ids: skin_types
            .iter()
            .map(|t| match t {
                1..=6 => *t as usize - 1,
                _ => usize::MAX,
            })
            .collect(),
        names: ROMAN.iter().map(|r| format!("Fitzpatrick {r}")).collect(),
    };
    let sex = Grouping {
        attribute: "sex".into(),
        ids: sexes
            .iter()
            .map(|s| {
                if (*s as usize) < sex_names.len().min(2) {
                    *s as usize
                } else {
                    usize::MAX
                }
            })
            .collect(),
        names: sex_names.iter().take(2).cloned().collect(),
    };
    let both = skin2.intersect(&sex);
    vec![skin2, skin6, sex, both]
}
