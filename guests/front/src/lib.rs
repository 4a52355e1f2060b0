//! The `front` component of the `pipeline` example: the socket the `upper` and
//! `count` plugs are wired into at build time. It splits text into words,
//! upper-cases it through `rivet:pipeline/text`, tallies the words into a list of
//! records, and has `rivet:pipeline/stats` sum and judge them; every such call
//! crosses a fused adapter into another component.

wit_bindgen::generate!({
    world: "front",
    path: "wit",
});

use rivet::pipeline::{log, stats, text};

struct Front;

impl Guest for Front {
    fn process(input: String) -> Summary {
        if input.contains("boom") {
            // A guest trap: the host sees an `Err`, not a crash.
            core::arch::wasm32::unreachable();
        }
        log::log(&format!("front: {} bytes in", input.len()));
        let counts = tally(&input);
        let total = stats::total(&counts);
        log::log(&format!("front: {total} words"));
        Summary {
            shouted: text::upper(&input),
            counts,
            verdict: stats::judge(total),
        }
    }
}

/// Counts each distinct word, in order of first appearance.
fn tally(input: &str) -> Vec<WordCount> {
    let mut counts: Vec<WordCount> = Vec::new();
    for word in input.split_whitespace() {
        match counts.iter_mut().find(|c| c.word == word) {
            Some(c) => c.count += 1,
            None => counts.push(WordCount {
                word: word.to_string(),
                count: 1,
            }),
        }
    }
    counts
}

export!(Front);
