// Entry point of `npm run moto`: moto, the AWS emulator, on a free loopback port, for trying
// the program by hand (README, "Try it by hand against moto"). stdout gets only the `export`
// lines that point the AWS SDK, and so `pulumi` and `npm run org`, at it; everything else
// goes to stderr. It runs until stopped (Ctrl-C); moto keeps its state in memory only.
import { motoEnv, startMoto } from "../devtools/moto";

async function main(): Promise<void> {
    const moto = await startMoto();
    for (const [name, value] of Object.entries(motoEnv(moto))) process.stdout.write(`export ${name}=${value}\n`);
    process.stderr.write(`moto is listening on ${moto.endpoint} (dummy credentials, any account through AssumeRole); Ctrl-C stops it\n`);
    const stop = () => void moto.stop().then(() => process.exit(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
});
