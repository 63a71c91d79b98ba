//! The spoken form of a password, one entry per character:
//! `"capital Kilo"`, `"small alpha"`, `"seven"`, `"hash"`.
//!
//! Letters use the ICAO/NATO spelling alphabet, so letters that sound alike
//! on a narrowband line (B, D, P, T, V) cannot be mistaken. The IVR plays a
//! pre-recorded prompt for each entry; an IVR platform given the remote API
//! can pass the entries to its own text-to-speech.

const NATO: [&str; 26] = [
    "Alfa", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett",
    "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango",
    "Uniform", "Victor", "Whiskey", "X-ray", "Yankee", "Zulu",
];

const DIGITS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// The spoken name of one character.
pub fn speak_char(c: char) -> String {
    match c {
        'A'..='Z' => format!("capital {}", NATO[(c as u8 - b'A') as usize]),
        'a'..='z' => format!("small {}", NATO[(c as u8 - b'a') as usize].to_lowercase()),
        '0'..='9' => DIGITS[(c as u8 - b'0') as usize].to_owned(),
        _ => symbol_name(c).map_or_else(|| format!("the character {c}"), str::to_owned),
    }
}

fn symbol_name(c: char) -> Option<&'static str> {
    Some(match c {
        '!' => "exclamation mark",
        '#' => "hash",
        '%' => "percent",
        '+' => "plus",
        '=' => "equals",
        '?' => "question mark",
        '@' => "at sign",
        '$' => "dollar",
        '&' => "ampersand",
        '*' => "star",
        '-' => "dash",
        '_' => "underscore",
        '.' => "dot",
        ',' => "comma",
        ':' => "colon",
        ';' => "semicolon",
        '/' => "slash",
        '(' => "open bracket",
        ')' => "close bracket",
        '^' => "caret",
        '~' => "tilde",
        _ => return None,
    })
}

/// The spoken form of a whole password.
pub fn spell(password: &str) -> Vec<String> {
    password.chars().map(speak_char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_case_digits_and_symbols() {
        assert_eq!(
            spell("Ka7#"),
            vec!["capital Kilo", "small alfa", "seven", "hash"]
        );
        assert_eq!(spell("Xz"), vec!["capital X-ray", "small zulu"]);
    }

    #[test]
    fn every_generator_character_has_a_proper_name() {
        use super::super::generator::{SAFE_DIGITS, SAFE_LOWERCASE, SAFE_SYMBOLS, SAFE_UPPERCASE};
        for c in [SAFE_UPPERCASE, SAFE_LOWERCASE, SAFE_DIGITS, SAFE_SYMBOLS]
            .concat()
            .chars()
        {
            assert!(!speak_char(c).starts_with("the character"), "{c}");
        }
    }
}
