// The Vercel AI SDK's default OpenAI provider (`openai(model)`: the Responses API) against a
// base URL: a text turn, a tool turn (the SDK runs the tool and sends its result back) and a
// streamed turn. One JSON line per turn on stdout. Packages come from $CLIENTS/node_modules.
import { createRequire } from "node:module";

const require = createRequire(`${process.env.CLIENTS}/package.json`);
const { generateText, streamText, tool, jsonSchema, stepCountIs } = await import(require.resolve("ai"));
const { createOpenAI } = await import(require.resolve("@ai-sdk/openai"));

const openai = createOpenAI({ baseURL: process.env.BASE_URL, apiKey: process.env.API_KEY });
const model = openai(process.env.MODEL);

const text = await generateText({ model, prompt: process.env.TEXT_PROMPT });
console.log(JSON.stringify({ turn: "text", text: text.text, usage: text.usage }));

const ran = [];
const weather = tool({
  description: "The weather in a city.",
  inputSchema: jsonSchema({
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
  }),
  execute: async ({ city }) => {
    ran.push(city);
    return `sunny in ${city}`;
  },
});
const used = await generateText({
  model,
  prompt: process.env.TOOL_PROMPT,
  tools: { weather },
  stopWhen: stepCountIs(3),
});
console.log(JSON.stringify({ turn: "tool", text: used.text, ran, steps: used.steps.length }));

let streamed = "";
for await (const delta of streamText({ model, prompt: process.env.TEXT_PROMPT }).textStream) {
  streamed += delta;
}
console.log(JSON.stringify({ turn: "stream", text: streamed }));
