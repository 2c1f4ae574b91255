"""TeX math as MathML, written at build time so that the site's math needs no script and no network.

``tex_to_mathml('e_0')`` is ``<math><semantics><msub><mi>e</mi><mn>0</mn></msub>…</semantics></math>``:
the markup browsers typeset natively (MathML Core: Chromium 109+, Firefox, Safari). The notebook site
(`utils.nb.site`) calls it for every formula nbconvert's markdown parser finds (``$…$``, ``$$…$$``).

Design decisions:
- The TeX a reader writes in a notebook's prose, not all of TeX: letters, numbers and operators,
  sub- and superscripts, groups, primes, ``\\frac``, ``\\sqrt``, ``\\mathrm``/``\\text``, Greek
  letters, named functions (``\\max``, ``\\cos``), common relations and delimiters, and spacing.
  Anything else (an unknown command, ``&`` or ``\\\\``, an unbalanced brace) is a `TexError` that
  names it: a page whose math the site cannot show is refused, never shown as TeX source.
- As in TeX, a script binds to the atom before it: in ``(1 - q)^s`` the ``s`` sits on the ``)``.
- Each formula keeps its TeX as an ``application/x-tex`` annotation, which browsers do not show but
  copying and assistive tools can use.
- Output is MathML Core only: ``mathvariant`` appears only as ``normal`` on a one-letter ``<mi>``.

Deliberately not here: macros, environments other than ``equation``, matrices and alignment, and
font commands beyond upright text; add one when a notebook uses it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

__all__ = ['TexError', 'tex_to_mathml']


class TexError(ValueError):
    """TeX that `tex_to_mathml` cannot typeset; the message names the construct and the formula."""


TOKEN = re.compile(r'\\[A-Za-z]+|\\.|\d+(?:\.\d+)?|\.\d+|\s+|.', re.DOTALL)

GREEK = {
    name: chr(code)
    for name, code in [
        *zip(
            'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho '
            'varsigma sigma tau upsilon phi chi psi omega'.split(),
            range(0x3B1, 0x3CA),
            strict=True,
        ),
        ('Gamma', 0x393),
        ('Delta', 0x394),
        ('Theta', 0x398),
        ('Lambda', 0x39B),
        ('Xi', 0x39E),
        ('Pi', 0x3A0),
        ('Sigma', 0x3A3),
        ('Phi', 0x3A6),
        ('Psi', 0x3A8),
        ('Omega', 0x3A9),
        ('varepsilon', 0x3B5),
        ('epsilon', 0x3F5),
        ('varphi', 0x3C6),
        ('phi', 0x3D5),
        ('vartheta', 0x3D1),
        ('ell', 0x2113),
        ('infty', 0x221E),
        ('partial', 0x2202),
        ('nabla', 0x2207),
    ]
}
"""Commands written as an identifier (``<mi>``)."""

OPERATORS = {
    'cdot': '⋅', 'times': '×', 'div': '÷', 'pm': '±', 'mp': '∓', 'ast': '∗',
    'le': '≤', 'leq': '≤', 'ge': '≥', 'geq': '≥', 'ne': '≠', 'neq': '≠', 'approx': '≈',
    'sim': '∼', 'simeq': '≃', 'equiv': '≡', 'propto': '∝', 'll': '≪', 'gg': '≫',
    'in': '∈', 'notin': '∉', 'subset': '⊂', 'subseteq': '⊆', 'cup': '∪', 'cap': '∩',
    'to': '→', 'rightarrow': '→', 'leftarrow': '←', 'mapsto': '↦', 'Rightarrow': '⇒',
    'mid': '∣', 'perp': '⊥', 'circ': '∘', 'cdots': '⋯', 'ldots': '…', 'dots': '…',
    'sum': '∑', 'prod': '∏', 'int': '∫',
    'lVert': '‖', 'rVert': '‖', 'Vert': '‖', '|': '‖', 'lvert': '|', 'rvert': '|', 'vert': '|',
    'langle': '⟨', 'rangle': '⟩', 'lfloor': '⌊', 'rfloor': '⌋', 'lceil': '⌈', 'rceil': '⌉',
    '{': '{', '}': '}', '%': '%', '#': '#', '&': '&', '$': '$', '_': '_',
}  # fmt: skip
"""Commands written as an operator (``<mo>``)."""

FUNCTIONS = set('max min sup inf lim arg det exp log ln sin cos tan sinh cosh tanh sgn'.split())
"""Named functions, written upright and followed by an invisible function application."""

SPACES = {',': '0.1667em', ':': '0.2222em', ';': '0.2778em', ' ': '0.25em', 'quad': '1em', 'qquad': '2em'}
IGNORED = {'!', 'displaystyle'}
"""Commands that change only sizing or spacing the browser already gets right."""

CHARACTERS = {'-': '−', '*': '∗', '~': '\u00a0'}
FENCES = set('()[]|')


@dataclass
class Atom:
    """One item of a row: its base and any scripts on it (each rendered MathML)."""

    base: str
    sub: str | None = None
    sup: str | None = None
    primes: int = 0
    after: str | None = None
    """An element that follows the scripted base (a named function's invisible application)."""

    def mathml(self) -> list[str]:
        """The atom's elements: its base with any scripts, then `after`."""
        sup, scripted = self.sup, self.base
        if self.primes:
            sup = row(['<mo>′</mo>'] * self.primes + ([sup] if sup is not None else []))
        if self.sub is not None and sup is not None:
            scripted = f'<msubsup>{self.base}{self.sub}{sup}</msubsup>'
        elif self.sub is not None:
            scripted = f'<msub>{self.base}{self.sub}</msub>'
        elif sup is not None:
            scripted = f'<msup>{self.base}{sup}</msup>'
        return [scripted] if self.after is None else [scripted, self.after]


def row(parts: list[str]) -> str:
    """One MathML element for `parts`: itself when alone, else an ``<mrow>`` (empty for none)."""
    return parts[0] if len(parts) == 1 else f'<mrow>{"".join(parts)}</mrow>'


def element(tag: str, text: str, **attributes: str) -> str:
    attrs = ''.join(f' {name}="{html.escape(value)}"' for name, value in attributes.items())
    return f'<{tag}{attrs}>{html.escape(text, quote=False)}</{tag}>'


class Parser:
    """A recursive-descent reader of one formula's tokens."""

    def __init__(self, tex: str) -> None:
        self.tex = tex
        self.tokens = TOKEN.findall(tex)  # spaces kept for \\text{…}; math mode skips them
        self.at = 0

    def fail(self, what: str) -> TexError:
        return TexError(f'{what} in TeX {self.tex!r}')

    def next(self, *, spaces: bool = False) -> str | None:
        """The next token, or None at the end; spaces are skipped unless `spaces`."""
        while self.at < len(self.tokens):
            self.at += 1
            if spaces or not self.tokens[self.at - 1].isspace():
                return self.tokens[self.at - 1]
        return None

    def sequence(self, *, upright: bool = False, closer: str | None = None) -> str:
        """Atoms up to `closer` (consumed) or the end; `upright` joins letters into one name."""
        atoms: list[Atom] = []
        while (token := self.next()) != closer:
            if token is None:
                raise self.fail("a '{' that is never closed")
            if token in ('^', '_', "'"):
                if not atoms:
                    raise self.fail(f'{token!r} with nothing before it')
                self.script(atoms[-1], token)
            elif token == '}':
                raise self.fail("a '}' that closes nothing")
            elif (made := self.atom(token, upright=upright)) is not None:
                atoms.append(made)
        return row([part for atom in atoms for part in atom.mathml()])

    def script(self, atom: Atom, token: str) -> None:
        if token == "'":
            if atom.sup is not None:
                raise self.fail('a prime after a superscript')
            atom.primes += 1
            return
        slot = 'sup' if token == '^' else 'sub'
        if getattr(atom, slot) is not None:
            raise self.fail(f'a second {"superscript" if slot == "sup" else "subscript"}')
        setattr(atom, slot, self.argument(repr(token)))

    def argument(self, after: str) -> str:
        """The argument of `after`: a group, or its next single token (``x^23`` raises x to 2)."""
        token = self.next()
        if token is None:
            raise self.fail(f'{after} without an argument')
        if token == '{':
            return self.sequence(closer='}')
        if token in ('^', '_', "'", '}'):
            raise self.fail(f'{after} followed by {token!r}')
        if token[0].isdigit() and len(token) > 1:  # TeX takes one digit: x^23 is x squared, then 3
            self.tokens[self.at - 1 : self.at] = [token[0], token[1:]]
            token = token[0]
        made = self.atom(token, upright=False)
        if made is None:
            raise self.fail(f'{after} followed by {token!r}, which shows nothing')
        return row(made.mathml())

    def text(self, command: str) -> str:
        """The raw text of a ``\\text{…}`` argument."""
        if self.next() != '{':
            raise self.fail(f'\\{command} without a {{…}} argument')
        depth, parts = 1, list[str]()
        while (token := self.next(spaces=True)) is not None:
            depth += {'{': 1, '}': -1}.get(token, 0)
            if depth == 0:
                return ''.join(parts)
            parts.append(token)
        raise self.fail(f"\\{command}'s '{{' that is never closed")

    def atom(self, token: str, *, upright: bool) -> Atom | None:
        """The atom `token` starts (reading its arguments), or None for one that shows nothing."""
        if token == '{':
            return Atom(self.sequence(upright=upright, closer='}'))
        if token.startswith('\\'):
            if token[1:] in FUNCTIONS:
                return Atom(element('mi', token[1:]), after='<mo>\u2061</mo>')
            made = self.command(token[1:])
            return None if made is None else Atom(made)
        return Atom(self.character(token, upright=upright))

    def character(self, token: str, *, upright: bool) -> str:
        """The MathML of a token that is not a command or a group."""
        if token[0].isdigit() or token[0] == '.' and len(token) > 1:
            return element('mn', token)
        if token.isalpha() and token.isascii():
            if not upright:
                return element('mi', token)
            while self.at < len(self.tokens) and re.fullmatch('[A-Za-z]', self.tokens[self.at]):
                token += self.tokens[self.at]  # adjacent upright letters make one name: \mathrm{sim}
                self.at += 1
            return element('mi', token, mathvariant='normal') if len(token) == 1 else element('mi', token)
        if token in ('&', '#', '$', '%'):
            raise self.fail(f'{token!r} (alignment, parameters and comments are not supported)')
        symbol = CHARACTERS.get(token, token)
        if symbol.isspace():
            return '<mspace width="0.25em"></mspace>'
        if token in FENCES:
            return element('mo', symbol, stretchy='false')
        category = unicodedata.category(symbol)[0]
        return element({'L': 'mi', 'N': 'mn'}.get(category, 'mo'), symbol)

    def command(self, name: str) -> str | None:
        if name in GREEK:
            return element('mi', GREEK[name])
        if name in OPERATORS:
            symbol = OPERATORS[name]
            return element('mo', symbol, stretchy='false') if symbol in '‖|⟨⟩{}' else element('mo', symbol)
        if name in SPACES:
            return f'<mspace width="{SPACES[name]}"></mspace>'
        if name in IGNORED:
            return None
        if name in ('left', 'right', 'bigl', 'bigr', 'Bigl', 'Bigr'):
            # a sized delimiter grows with what it encloses; \left. is an invisible one
            delimiter = self.next()
            if delimiter is None:
                raise self.fail(f'\\{name} without a delimiter')
            if delimiter == '.':
                return None
            symbol = OPERATORS.get(delimiter[1:], '') if delimiter.startswith('\\') else delimiter
            if symbol not in FENCES | set('‖⟨⟩{}⌊⌋⌈⌉'):
                raise self.fail(f'\\{name} followed by {delimiter!r}, which is not a delimiter')
            return element('mo', symbol, stretchy='true')
        if name in ('mathrm', 'operatorname'):
            if self.next() != '{':
                raise self.fail(f'\\{name} without a {{…}} argument')
            return self.sequence(upright=True, closer='}')
        if name in ('text', 'textrm', 'mbox'):
            return element('mtext', self.text(name))
        if name == 'frac':
            numerator, denominator = self.argument('\\frac'), self.argument('\\frac')
            return f'<mfrac>{numerator}{denominator}</mfrac>'
        if name == 'sqrt':
            radicand = self.argument('\\sqrt')
            return f'<msqrt>{radicand}</msqrt>'
        raise self.fail(f'unknown command \\{name}')


def tex_to_mathml(tex: str, *, display: bool = False) -> str:
    """`tex` (a formula without its ``$`` delimiters) as one ``<math>`` element.

    Raises:
        TexError: for TeX outside the supported subset (see the module docstring), naming it.
    """
    body = Parser(tex).sequence()
    block = ' display="block"' if display else ''
    annotation = element('annotation', tex.strip(), encoding='application/x-tex')
    return f'<math{block}><semantics>{body}{annotation}</semantics></math>'
