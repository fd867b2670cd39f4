// tc_bench.mjs - the same measurement with testcontainers-node (npm
// testcontainers@11): GenericContainer(image).withCommand(httpd)
// .withExposedPorts(8080).withWaitStrategy(Wait.forListeningPorts()).start().
//   node tc_bench.mjs seq|par N IMAGE   (as harness_bench; Ryuk disabled)
import { GenericContainer, Wait } from "testcontainers";

const [mode, nArg, image] = process.argv.slice(2);
const n = Number(nArg);
const spec = () =>
  new GenericContainer(image)
    .withCommand(["httpd", "-f", "-p", "8080", "-h", "/"])
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forListeningPorts());

async function one() {
  const t0 = performance.now();
  const c = await spec().start();
  const t1 = performance.now();
  return { c, ms: Math.round(t1 - t0), t1 };
}

if (mode === "seq") {
  for (let i = 0; i < n; i++) {
    const r = await one();
    console.log(r.ms);
    await r.c.stop({ timeout: 0, removeVolumes: true });
  }
} else {
  const t0 = performance.now();
  const rs = await Promise.all(Array.from({ length: n }, one));
  for (const r of rs) console.log(r.ms);
  console.log(`total ${Math.round(Math.max(...rs.map((r) => r.t1)) - t0)}`);
  await Promise.all(rs.map((r) => r.c.stop({ timeout: 0, removeVolumes: true })));
}
