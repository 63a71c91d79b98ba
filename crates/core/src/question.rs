//! Choosing which of a person's enrolled questions a caller must answer.
//!
//! A random subset is asked on every call, so that overhearing one call does
//! not give away every answer. The chosen subset is recorded by the store
//! as a challenge; only the questions of that challenge are accepted.
//!
//! The chosen questions are asked in the order they are enrolled in (the
//! subset is random, not the order): a caller hears their questions in a
//! steady order, which costs nothing (whoever listens hears the question
//! texts anyway) and lets a scripted caller, like the tests' sipp, key the
//! answers of a known set.

use rand::Rng;
use rand::seq::index;

/// Picks `count` distinct items at random (all of them when fewer are
/// enrolled), kept in the order of `enrolled`. Returns an empty vector
/// when none are enrolled.
pub fn select_questions<T: Clone, R: Rng + ?Sized>(
    enrolled: &[T],
    count: usize,
    rng: &mut R,
) -> Vec<T> {
    let mut picked = index::sample(rng, enrolled.len(), count.min(enrolled.len())).into_vec();
    picked.sort_unstable();
    picked.into_iter().map(|i| enrolled[i].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn selects_distinct_questions_up_to_the_count() {
        let enrolled: Vec<u32> = (1..=5).collect();
        let mut rng = rand::rng();
        for _ in 0..200 {
            let picked = select_questions(&enrolled, 3, &mut rng);
            assert_eq!(picked.len(), 3);
            assert_eq!(picked.iter().collect::<HashSet<_>>().len(), 3);
            assert!(picked.iter().all(|q| enrolled.contains(q)));
        }
    }

    #[test]
    fn the_chosen_questions_keep_their_enrolled_order_and_vary() {
        let enrolled: Vec<u32> = (1..=5).collect();
        let mut rng = rand::rng();
        let mut subsets = HashSet::new();
        for _ in 0..200 {
            let picked = select_questions(&enrolled, 2, &mut rng);
            assert!(picked.windows(2).all(|w| w[0] < w[1]), "{picked:?}");
            subsets.insert(picked);
        }
        // Ten possible pairs; 200 draws see most of them.
        assert!(subsets.len() >= 8, "{subsets:?}");
        assert_eq!(select_questions(&enrolled, 9, &mut rng), enrolled);
    }

    #[test]
    fn selects_all_when_fewer_are_enrolled_and_none_when_none_are() {
        let mut rng = rand::rng();
        assert_eq!(select_questions(&[1, 2], 3, &mut rng).len(), 2);
        assert!(select_questions::<u32, _>(&[], 3, &mut rng).is_empty());
    }

    #[test]
    fn every_question_is_eventually_asked() {
        let enrolled: Vec<u32> = (1..=6).collect();
        let mut rng = rand::rng();
        let mut seen = HashSet::new();
        for _ in 0..500 {
            seen.extend(select_questions(&enrolled, 2, &mut rng));
        }
        assert_eq!(seen.len(), 6);
    }
}
