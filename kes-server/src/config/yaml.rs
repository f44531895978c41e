//! A small YAML document tree with a line number on every node and every key.
//!
//! Built from `saphyr-parser` events. Scalars keep their text exactly as written, because the
//! schema decides the type (an identity such as `1e10` or a path such as `0755` must stay text).
//! Anchors and aliases work; tags are ignored.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput};
use zeroize::Zeroizing;

use super::error::ConfigError;

/// Deeper nesting than this is certainly not a KES configuration (the schema has 6 levels).
const MAX_DEPTH: usize = 64;
/// How many nodes alias expansion may add in total ("billion laughs" guard).
const MAX_ALIAS_NODES: usize = 10_000;

/// A YAML node. `line` is 1-based.
#[derive(Clone, Debug)]
pub(super) enum Node {
    /// `~`, `null`, or nothing at all after a key.
    Null {
        line: usize,
    },
    /// Any other scalar; the text may be a secret, so it is wiped on drop.
    Scalar {
        text: Zeroizing<String>,
        line: usize,
    },
    List {
        items: Vec<Node>,
        line: usize,
    },
    Map {
        entries: Vec<Entry>,
        line: usize,
    },
}

/// One `key: value` pair of a mapping.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub key: String,
    pub key_line: usize,
    pub value: Node,
}

impl Node {
    pub fn line(&self) -> usize {
        match self {
            Node::Null { line }
            | Node::Scalar { line, .. }
            | Node::List { line, .. }
            | Node::Map { line, .. } => *line,
        }
    }

    fn size(&self) -> usize {
        match self {
            Node::Null { .. } | Node::Scalar { .. } => 1,
            Node::List { items, .. } => 1 + items.iter().map(Node::size).sum::<usize>(),
            Node::Map { entries, .. } => {
                1 + entries.iter().map(|e| 1 + e.value.size()).sum::<usize>()
            }
        }
    }
}

/// Parses the first document of `text`. An empty file gives `Null`; further documents must be
/// empty, so that nothing in the file is silently skipped.
pub(super) fn load(text: &str) -> Result<Node, ConfigError> {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        alias_nodes: 0,
    };
    let mut document = None;
    loop {
        let (event, span) = builder.next()?;
        match event {
            Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => return Ok(document.unwrap_or(Node::Null { line: 1 })),
            event => {
                let node = builder.node(event, span, 0)?;
                if document.is_none() {
                    document = Some(node);
                } else if !matches!(node, Node::Null { .. }) {
                    return Err(ConfigError::invalid(format!(
                        "kesconf: invalid config: a second YAML document starts in line {}",
                        node.line()
                    )));
                }
            }
        }
    }
}

struct Builder<'i> {
    parser: Parser<'i, StrInput<'i>>,
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
}

impl<'i> Builder<'i> {
    fn next(&mut self) -> Result<(Event<'i>, Span), ConfigError> {
        match self.parser.next_event() {
            Some(Ok(next)) => Ok(next),
            Some(Err(error)) => Err(syntax(&error)),
            None => Err(ConfigError::invalid(
                "kesconf: invalid YAML: unexpected end of input",
            )),
        }
    }

    fn node(&mut self, event: Event<'i>, span: Span, depth: usize) -> Result<Node, ConfigError> {
        let line = span.start.line();
        if depth > MAX_DEPTH {
            return Err(ConfigError::invalid(format!(
                "kesconf: invalid YAML in line {line}: nesting is too deep"
            )));
        }
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, _tag) => {
                let node = if style == ScalarStyle::Plain && is_null(&text) {
                    Node::Null { line }
                } else {
                    Node::Scalar {
                        text: Zeroizing::new(text.into_owned()),
                        line,
                    }
                };
                (node, anchor)
            }
            Event::SequenceStart(anchor, _tag) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if event == Event::SequenceEnd {
                        break;
                    }
                    items.push(self.node(event, span, depth + 1)?);
                }
                (Node::List { items, line }, anchor)
            }
            Event::MappingStart(anchor, _tag) => {
                let mut entries = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if event == Event::MappingEnd {
                        break;
                    }
                    let key_node = self.node(event, span, depth + 1)?;
                    let key_line = key_node.line();
                    let key = match key_node {
                        Node::Scalar { text, .. } => String::from(text.as_str()),
                        Node::Null { .. } => String::new(),
                        _ => {
                            return Err(ConfigError::invalid(format!(
                                "kesconf: invalid YAML in line {key_line}: a key must be a plain value"
                            )));
                        }
                    };
                    let (event, span) = self.next()?;
                    let value = self.node(event, span, depth + 1)?;
                    entries.push(Entry {
                        key,
                        key_line,
                        value,
                    });
                }
                (Node::Map { entries, line }, anchor)
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id) else {
                    return Err(ConfigError::invalid(format!(
                        "kesconf: invalid YAML in line {line}: unknown alias"
                    )));
                };
                self.alias_nodes = self.alias_nodes.saturating_add(target.size());
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(ConfigError::invalid(format!(
                        "kesconf: invalid YAML in line {line}: aliases expand to too many nodes"
                    )));
                }
                (relocate(target.clone(), line), 0)
            }
            other => {
                return Err(ConfigError::invalid(format!(
                    "kesconf: invalid YAML in line {line}: unexpected {other:?}"
                )));
            }
        };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }
}

/// An alias is reported at the line where it is used, not where its anchor is.
fn relocate(node: Node, at: usize) -> Node {
    match node {
        Node::Null { .. } => Node::Null { line: at },
        Node::Scalar { text, .. } => Node::Scalar { text, line: at },
        Node::List { items, .. } => Node::List {
            items: items.into_iter().map(|n| relocate(n, at)).collect(),
            line: at,
        },
        Node::Map { entries, .. } => Node::Map {
            entries: entries
                .into_iter()
                .map(|e| Entry {
                    key: e.key,
                    key_line: at,
                    value: relocate(e.value, at),
                })
                .collect(),
            line: at,
        },
    }
}

/// The YAML 1.2 core schema nulls. Only plain scalars can be null; `""` is an empty string.
fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn syntax(error: &ScanError) -> ConfigError {
    ConfigError::Syntax {
        line: error.marker().line(),
        column: error.marker().col() + 1,
        message: error.info().to_owned(),
    }
}
