//! Choosing which of a person's enrolled questions a caller must answer.
//!
//! A random subset is asked on every call, so that overhearing one call does
//! not give away every answer. The chosen subset is recorded by the store
//! as a challenge; only the questions of that challenge are accepted.

use rand::Rng;
use rand::seq::IndexedRandom;

/// Picks `count` distinct items at random (all of them, in random order,
/// when fewer are enrolled). Returns an empty vector when none are.
pub fn select_questions<T: Clone, R: Rng + ?Sized>(
    enrolled: &[T],
    count: usize,
    rng: &mut R,
) -> Vec<T> {
    enrolled.choose_multiple(rng, count).cloned().collect()
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
