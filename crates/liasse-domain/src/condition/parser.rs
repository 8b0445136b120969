//! From tokens to an expression tree, by precedence, within the length and depth limits.

use super::*;

// ---------------------------------------------------------------------------------------------
// Parser
//
// or   := and (("||" | "or") and)*
// and  := not (("&&" | "and") not)*
// not  := ("!" | "not") not | cmp
// cmp  := primary (cmpop primary | "in" list)?
// primary := literal | path | "(" or ")"
// list := "[" (literal ("," literal)*)? "]"

pub(super) struct Parser<'a> {
    pub(super) chars: &'a [char],
    pub(super) toks: Vec<Token>,
    pub(super) pos: usize,
    pub(super) depth: usize,
    /// Span of the last complete operand, to say what an operator was expected after.
    pub(super) last_operand: (usize, usize),
}

impl Parser<'_> {
    pub(super) fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    pub(super) fn peek_tok(&self) -> Option<&Tok> {
        self.peek().map(|t| &t.tok)
    }

    pub(super) fn at_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek_tok(), Some(Tok::Name(word, segments))
            if segments.is_empty() && word == keyword)
    }

    pub(super) fn end(&self) -> usize {
        self.chars.len()
    }

    /// A piece of the source for a message, shortened when long.
    pub(super) fn snippet(&self, start: usize, end: usize) -> String {
        const MAX: usize = 40;
        if end.saturating_sub(start) > MAX {
            format!("{}…", text(self.chars, start, start + MAX))
        } else {
            text(self.chars, start, end)
        }
    }

    pub(super) fn token_text(&self, token: &Token) -> String {
        self.snippet(token.start, token.end)
    }

    pub(super) fn previous_text(&self) -> Option<String> {
        let previous = self.pos.checked_sub(1)?;
        self.toks.get(previous).map(|t| self.token_text(t))
    }

    pub(super) fn enter(&mut self, position: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::new(
                format!(
                    "imbrication trop profonde (au plus {MAX_DEPTH} niveaux de parenthèses \
                     et de négations)"
                ),
                position,
            ));
        }
        Ok(())
    }

    pub(super) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// A value was expected at the current position.
    pub(super) fn value_expected(&self) -> ParseError {
        match (self.peek(), self.previous_text()) {
            (None, Some(previous)) => {
                ParseError::new(format!("valeur attendue après « {previous} »"), self.end())
            }
            (None, None) => ParseError::new("condition vide", 0),
            (Some(tok), Some(previous)) => ParseError::new(
                format!(
                    "valeur attendue après « {previous} », trouvé « {} »",
                    self.token_text(tok)
                ),
                tok.start,
            ),
            (Some(tok), None) => ParseError::new(
                format!(
                    "valeur attendue au début de la condition, trouvé « {} »",
                    self.token_text(tok)
                ),
                tok.start,
            ),
        }
    }

    /// An operand is complete but `tok` cannot follow it.
    pub(super) fn operator_expected(&self, tok: &Token, in_parentheses: bool) -> ParseError {
        if matches!(tok.tok, Tok::RParen) && !in_parentheses {
            return ParseError::new("« ) » sans parenthèse ouvrante correspondante", tok.start);
        }
        let (start, end) = self.last_operand;
        let operand = self.snippet(start, end);
        let expected = if in_parentheses {
            "opérateur ou « ) » attendu"
        } else {
            "opérateur attendu"
        };
        ParseError::new(format!("{expected} après « {operand} »"), tok.start)
    }

    pub(super) fn parse_or(&mut self) -> Result<Expr, ParseError> {
        let first = self.parse_and()?;
        let mut items = Vec::new();
        while matches!(self.peek_tok(), Some(Tok::OrOr)) || self.at_keyword("or") {
            self.pos += 1;
            match self.parse_and()? {
                Expr::Or(nested) => items.extend(nested),
                other => items.push(other),
            }
        }
        if items.is_empty() {
            return Ok(first);
        }
        match first {
            Expr::Or(mut nested) => {
                nested.extend(items);
                Ok(Expr::Or(nested))
            }
            other => {
                items.insert(0, other);
                Ok(Expr::Or(items))
            }
        }
    }

    pub(super) fn parse_and(&mut self) -> Result<Expr, ParseError> {
        let first = self.parse_not()?;
        let mut items = Vec::new();
        while matches!(self.peek_tok(), Some(Tok::AndAnd)) || self.at_keyword("and") {
            self.pos += 1;
            match self.parse_not()? {
                Expr::And(nested) => items.extend(nested),
                other => items.push(other),
            }
        }
        if items.is_empty() {
            return Ok(first);
        }
        match first {
            Expr::And(mut nested) => {
                nested.extend(items);
                Ok(Expr::And(nested))
            }
            other => {
                items.insert(0, other);
                Ok(Expr::And(items))
            }
        }
    }

    pub(super) fn parse_not(&mut self) -> Result<Expr, ParseError> {
        let negation = matches!(self.peek_tok(), Some(Tok::Bang)) || self.at_keyword("not");
        let Some(position) = self.peek().filter(|_| negation).map(|t| t.start) else {
            return self.parse_cmp();
        };
        self.pos += 1;
        self.enter(position)?;
        let inner = self.parse_not();
        self.leave();
        Ok(Expr::Not(Box::new(inner?)))
    }

    pub(super) fn parse_cmp(&mut self) -> Result<Expr, ParseError> {
        let start = self.peek().map_or(0, |t| t.start);
        let left = self.parse_primary()?;
        let expr = match self.peek_tok() {
            Some(&Tok::Cmp(op)) => {
                self.pos += 1;
                let right = self.parse_primary()?;
                Expr::Cmp(op, Box::new(left), Box::new(right))
            }
            _ if self.at_keyword("in") => {
                self.pos += 1;
                let (items, end) = self.parse_list()?;
                self.last_operand = (start, end);
                Expr::In(Box::new(left), items)
            }
            _ => return Ok(left),
        };
        if let Some(tok) = self.peek()
            && (matches!(tok.tok, Tok::Cmp(_)) || self.at_keyword("in"))
        {
            return Err(ParseError::new(
                format!(
                    "comparaisons enchaînées interdites devant « {} » : combinez-les avec « && », \
                     par exemple « 1 < answers.x && answers.x < 3 »",
                    self.token_text(tok)
                ),
                tok.start,
            ));
        }
        Ok(expr)
    }

    /// A literal token as a value, if it is one.
    pub(super) fn literal(tok: &Tok) -> Option<Value> {
        match tok {
            Tok::Num(n) => Some(Value::Number(n.clone())),
            Tok::Str(s) => Some(Value::String(s.clone())),
            Tok::Name(word, segments) if segments.is_empty() => match word.as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                "null" => Some(Value::Null),
                _ => None,
            },
            _ => None,
        }
    }

    pub(super) fn parse_primary(&mut self) -> Result<Expr, ParseError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.value_expected());
        };
        let expr = if let Some(value) = Self::literal(&token.tok) {
            Expr::Lit(value)
        } else {
            match &token.tok {
                Tok::Name(word, segments) => self.name(&token, word, segments)?,
                Tok::LParen => return self.parenthesised(&token),
                Tok::LBracket => {
                    return Err(ParseError::new(
                        "une liste « [ … ] » n'est permise qu'après « in »",
                        token.start,
                    ));
                }
                _ => return Err(self.value_expected()),
            }
        };
        self.pos += 1;
        self.last_operand = (token.start, token.end);
        Ok(expr)
    }

    pub(super) fn name(
        &self,
        token: &Token,
        word: &str,
        segments: &[String],
    ) -> Result<Expr, ParseError> {
        match (word, segments) {
            ("answers" | "household", []) => Err(ParseError::new(
                format!("« . » et un nom de champ attendus après « {word} »"),
                token.end,
            )),
            ("answers", _) => Ok(Expr::Answer(segments.to_vec())),
            ("household", [field]) => HouseholdField::from_name(field)
                .map(Expr::Household)
                .ok_or_else(|| {
                    ParseError::new(
                        format!(
                            "donnée de foyer inconnue « household.{field} » : utilisez \
                             household.children, household.members ou household.adults"
                        ),
                        token.start,
                    )
                }),
            ("household", _) => Err(ParseError::new(
                format!(
                    "« {} » : les données du foyer n'ont pas de sous-champ",
                    self.token_text(token)
                ),
                token.start,
            )),
            ("and" | "or" | "not" | "in", []) => Err(self.value_expected()),
            _ => Err(ParseError::new(
                format!("nom inconnu « {word} » : une condition lit answers.… ou household.…"),
                token.start,
            )),
        }
    }

    pub(super) fn parenthesised(&mut self, open: &Token) -> Result<Expr, ParseError> {
        self.pos += 1;
        self.enter(open.start)?;
        let inner = self.parse_or();
        self.leave();
        let inner = inner?;
        match self.peek() {
            Some(close) if matches!(close.tok, Tok::RParen) => {
                self.last_operand = (open.start, close.end);
                self.pos += 1;
                Ok(inner)
            }
            Some(tok) => Err(self.operator_expected(tok, true)),
            None => Err(ParseError::new(
                format!(
                    "« ) » manquante : la parenthèse ouverte en position {} n'est pas fermée",
                    open.start
                ),
                self.end(),
            )),
        }
    }

    /// `[literal, …]`, returning the values and the offset just after `]`.
    pub(super) fn parse_list(&mut self) -> Result<(Vec<Value>, usize), ParseError> {
        let open = match self.peek() {
            Some(t) if matches!(t.tok, Tok::LBracket) => t.start,
            Some(t) => {
                return Err(ParseError::new(
                    format!(
                        "liste « [ … ] » attendue après « in », trouvé « {} »",
                        self.token_text(t)
                    ),
                    t.start,
                ));
            }
            None => {
                return Err(ParseError::new(
                    "liste « [ … ] » attendue après « in »",
                    self.end(),
                ));
            }
        };
        self.pos += 1;
        let unclosed = |end| {
            ParseError::new(
                format!("« ] » manquant : la liste ouverte en position {open} n'est pas fermée"),
                end,
            )
        };
        let mut items = Vec::new();
        if let Some(close) = self.peek()
            && matches!(close.tok, Tok::RBracket)
        {
            let end = close.end;
            self.pos += 1;
            return Ok((items, end));
        }
        loop {
            let Some(token) = self.peek() else {
                return Err(unclosed(self.end()));
            };
            let Some(value) = Self::literal(&token.tok) else {
                return Err(ParseError::new(
                    format!(
                        "une liste ne contient que des valeurs (nombres, chaînes, true, false, \
                         null), trouvé « {} »",
                        self.token_text(token)
                    ),
                    token.start,
                ));
            };
            items.push(value);
            self.pos += 1;
            match self.peek() {
                Some(t) if matches!(t.tok, Tok::Comma) => self.pos += 1,
                Some(t) if matches!(t.tok, Tok::RBracket) => {
                    let end = t.end;
                    self.pos += 1;
                    return Ok((items, end));
                }
                Some(t) => {
                    return Err(ParseError::new(
                        format!(
                            "« , » ou « ] » attendu dans la liste, trouvé « {} »",
                            self.token_text(t)
                        ),
                        t.start,
                    ));
                }
                None => return Err(unclosed(self.end())),
            }
        }
    }
}
