import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const handlerSourceName = "sessionDocumentHandler.ts";

/**
 * The handler's TypeScript source. Looked up beside this file (ts-node, the Pulumi
 * program) and from dist/lambda back to the repository's lambda/ (compiled tests), so
 * both transpile the same text.
 */
export function handlerSourcePath(): string {
    const candidates = [path.join(__dirname, handlerSourceName), path.join(__dirname, "..", "..", "lambda", handlerSourceName)];
    const found = candidates.find((p) => fs.existsSync(p));
    if (!found) throw new Error(`cannot find ${handlerSourceName}; looked in ${candidates.join(", ")}`);
    return found;
}

/**
 * The custom-resource handler as the plain CommonJS that goes into the template's ZipFile:
 * transpiled for the Lambda Node.js runtime, then minified. The same source always gives
 * the same text, so the StackSet shows no diff unless the handler changed.
 */
export function inlineHandlerCode(): string {
    return minifyJavaScript(transpileHandler(fs.readFileSync(handlerSourcePath(), "utf8")));
}

export function transpileHandler(source: string): string {
    const out = ts.transpileModule(source, {
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, removeComments: true, sourceMap: false },
        reportDiagnostics: true,
    });
    const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (errors.length > 0) throw new Error(`cannot transpile the handler: ${ts.flattenDiagnosticMessageText(errors[0].messageText, "\n")}`);
    return out.outputText;
}

/**
 * Whitespace-only minification: re-emits the tokens of the program with a space only where
 * two tokens would otherwise merge. Names are left alone, so stack traces stay readable.
 * It relies on the TypeScript emitter ending every statement with a semicolon (no ASI).
 */
export function minifyJavaScript(code: string): string {
    const file = ts.createSourceFile("index.js", code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.JS);
    const diagnostics = (file as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
    if (diagnostics.length > 0) throw new Error(`cannot minify: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, "\n")}`);
    const tokens: ts.Node[] = [];
    const collect = (node: ts.Node): void => {
        const children = node.getChildren(file);
        if (children.length === 0) tokens.push(node);
        else children.forEach(collect);
    };
    collect(file);
    let out = "";
    let previous: ts.Node | undefined;
    for (const token of tokens) {
        const text = token.getText(file);
        if (text === "") continue;
        if (previous && needsSpace(previous, out, text)) out += " ";
        out += text;
        previous = token;
    }
    return out;
}

function needsSpace(previous: ts.Node, out: string, next: string): boolean {
    const last = out[out.length - 1];
    const first = next[0];
    const word = /[\w$\\]/;
    if (word.test(last) && word.test(first)) return true;
    // `a + +b`, `a - -b`, `a / /re/`: joined they would read as ++, -- or a comment.
    if ((last === "+" || last === "-" || last === "/") && first === last) return true;
    if (last === "/" && first === "*") return true;
    // `<!--` and `-->` open HTML-like comments in scripts (Annex B).
    if ((last === "<" && first === "!") || (out.endsWith("--") && first === ">")) return true;
    // `1 .toString()`: joined, the dot would belong to the number.
    if (previous.kind === ts.SyntaxKind.NumericLiteral && first === ".") return true;
    return false;
}
