// Chat formats known by name (`serve --chat-template NAME`), written as Jinja for our own
// interpreter. The names and the text each format produces are llama-server's built-in ones
// (its list of "commonly used templates"), so a command line that names one renders the same
// prompt; each is a plain loop over the messages, with no tools or thinking.
#include "chat/builtin_templates.h"

namespace longctx::chat {
namespace {

struct Format {
  const char* name;
  const char* text;
};

// Whitespace control: every tag strips around itself, so only the quoted strings reach the
// prompt. Content is taken as it is unless the format trims it (Python's str.strip, as `trim`).
constexpr Format kFormats[] = {
    {"chatml",
     "{%- for m in messages -%}{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' "
     "-}}{%- endfor -%}{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif "
     "-%}"},
    // Llama 2: one [INST] block per exchange; the plain variant has no system block (a system
    // message's text goes first in the block), -sys wraps it in <<SYS>>.
    {"llama2",
     "{%- set ns = namespace(open=true) -%}{{- '[INST] ' -}}{%- for m in messages -%}{%- if not "
     "ns.open -%}{{- '[INST] ' -}}{%- set ns.open = true -%}{%- endif -%}{%- if m.role == "
     "'system' -%}{{- m.content + '\\n' -}}{%- elif m.role == 'user' -%}{{- m.content + ' "
     "[/INST]' -}}{%- else -%}{{- m.content + '</s>' -}}{%- set ns.open = false -%}{%- endif "
     "-%}{%- endfor -%}"},
    {"llama2-sys",
     "{%- set ns = namespace(open=true) -%}{{- '[INST] ' -}}{%- for m in messages -%}{%- if not "
     "ns.open -%}{{- '[INST] ' -}}{%- set ns.open = true -%}{%- endif -%}{%- if m.role == "
     "'system' -%}{{- '<<SYS>>\\n' + m.content + '\\n<</SYS>>\\n\\n' -}}{%- elif m.role == 'user' "
     "-%}{{- m.content + ' [/INST]' -}}{%- else -%}{{- m.content + '</s>' -}}{%- set ns.open = "
     "false -%}{%- endif -%}{%- endfor -%}"},
    {"llama3",
     "{%- for m in messages -%}{{- '<|start_header_id|>' + m.role + '<|end_header_id|>\\n\\n' + "
     "(m.content | trim) + '<|eot_id|>' -}}{%- endfor -%}{%- if add_generation_prompt -%}{{- "
     "'<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}{%- endif -%}"},
    {"mistral-v7",
     "{%- for m in messages -%}{%- if m.role == 'system' -%}{{- '[SYSTEM_PROMPT] ' + m.content + "
     "'[/SYSTEM_PROMPT]' -}}{%- elif m.role == 'user' -%}{{- '[INST] ' + m.content + '[/INST]' "
     "-}}{%- else -%}{{- ' ' + m.content + '</s>' -}}{%- endif -%}{%- endfor -%}"},
    {"mistral-v7-tekken",
     "{%- for m in messages -%}{%- if m.role == 'system' -%}{{- '[SYSTEM_PROMPT]' + m.content + "
     "'[/SYSTEM_PROMPT]' -}}{%- elif m.role == 'user' -%}{{- '[INST]' + m.content + '[/INST]' "
     "-}}{%- else -%}{{- m.content + '</s>' -}}{%- endif -%}{%- endfor -%}"},
    {"phi3",
     "{%- for m in messages -%}{{- '<|' + m.role + '|>\\n' + m.content + '<|end|>\\n' -}}{%- "
     "endfor -%}{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}"},
    {"phi4",
     "{%- for m in messages -%}{{- '<|im_start|>' + m.role + '<|im_sep|>' + m.content + "
     "'<|im_end|>' -}}{%- endfor -%}{%- if add_generation_prompt -%}{{- "
     "'<|im_start|>assistant<|im_sep|>' -}}{%- endif -%}"},
    {"falcon3",
     "{%- for m in messages -%}{{- '<|' + m.role + '|>\\n' + m.content + '\\n' -}}{%- endfor "
     "-%}{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}"},
    {"zephyr",
     "{%- for m in messages -%}{{- '<|' + m.role + '|>\\n' + m.content + '<|endoftext|>\\n' -}}{%- "
     "endfor -%}{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}"},
    // Gemma has no system turn: system text (trimmed) is joined and put first in the next user
    // turn; the assistant's role is "model".
    {"gemma",
     "{%- set ns = namespace(sys='') -%}{%- for m in messages -%}{%- if m.role == 'system' -%}{%- "
     "set ns.sys = ns.sys + (m.content | trim) -%}{%- else -%}{%- set r = 'model' if m.role == "
     "'assistant' else m.role -%}{{- '<start_of_turn>' + r + '\\n' -}}{%- if ns.sys and r != "
     "'model' -%}{{- ns.sys + '\\n\\n' -}}{%- set ns.sys = '' -%}{%- endif -%}{{- (m.content | "
     "trim) + '<end_of_turn>\\n' -}}{%- endif -%}{%- endfor -%}{%- if add_generation_prompt "
     "-%}{{- '<start_of_turn>model\\n' -}}{%- endif -%}"},
    {"vicuna",
     "{%- for m in messages -%}{%- if m.role == 'system' -%}{{- m.content + '\\n\\n' -}}{%- elif "
     "m.role == 'user' -%}{{- 'USER: ' + m.content + '\\n' -}}{%- elif m.role == 'assistant' "
     "-%}{{- 'ASSISTANT: ' + m.content + '</s>\\n' -}}{%- endif -%}{%- endfor -%}{%- if "
     "add_generation_prompt -%}{{- 'ASSISTANT:' -}}{%- endif -%}"},
    {"vicuna-orca",
     "{%- for m in messages -%}{%- if m.role == 'system' -%}{{- 'SYSTEM: ' + m.content + '\\n' "
     "-}}{%- elif m.role == 'user' -%}{{- 'USER: ' + m.content + '\\n' -}}{%- elif m.role == "
     "'assistant' -%}{{- 'ASSISTANT: ' + m.content + '</s>\\n' -}}{%- endif -%}{%- endfor -%}{%- "
     "if add_generation_prompt -%}{{- 'ASSISTANT:' -}}{%- endif -%}"},
    {"deepseek",
     "{%- for m in messages -%}{%- if m.role == 'system' -%}{{- m.content -}}{%- elif m.role == "
     "'user' -%}{{- '### Instruction:\\n' + m.content + '\\n' -}}{%- elif m.role == 'assistant' "
     "-%}{{- '### Response:\\n' + m.content + '\\n<|EOT|>\\n' -}}{%- endif -%}{%- endfor -%}{%- "
     "if add_generation_prompt -%}{{- '### Response:\\n' -}}{%- endif -%}"},
    {"deepseek3",
     "{%- for m in messages -%}{%- if m.role == 'system' -%}{{- m.content + '\\n\\n' -}}{%- elif "
     "m.role == 'user' -%}{{- '<｜User｜>' + m.content -}}{%- elif m.role == "
     "'assistant' -%}{{- '<｜Assistant｜>' + m.content + "
     "'<｜end▁of▁sentence｜>' -}}{%- endif -%}{%- endfor "
     "-%}{%- if add_generation_prompt -%}{{- '<｜Assistant｜>' -}}{%- endif "
     "-%}"},
    {"command-r",
     "{%- for m in messages -%}{%- if m.role == 'system' -%}{{- "
     "'<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>' + (m.content | trim) + '<|END_OF_TURN_TOKEN|>' "
     "-}}{%- elif m.role == 'user' -%}{{- '<|START_OF_TURN_TOKEN|><|USER_TOKEN|>' + (m.content | "
     "trim) + '<|END_OF_TURN_TOKEN|>' -}}{%- elif m.role == 'assistant' -%}{{- "
     "'<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' + (m.content | trim) + '<|END_OF_TURN_TOKEN|>' "
     "-}}{%- endif -%}{%- endfor -%}{%- if add_generation_prompt -%}{{- "
     "'<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' -}}{%- endif -%}"},
};

}  // namespace

std::optional<std::string> builtin_chat_template(std::string_view name) {
  for (const Format& f : kFormats) {
    if (name == f.name) return std::string(f.text);
  }
  return std::nullopt;
}

std::string builtin_chat_template_names() {
  std::string out;
  for (const Format& f : kFormats) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out;
}

}  // namespace longctx::chat
