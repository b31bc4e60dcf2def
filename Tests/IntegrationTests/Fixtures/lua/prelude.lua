local function esc(s) return (s:gsub('[^%w%p ]', function(c) return string.format('\\x%02x', c:byte()) end):gsub('"', '\\"')) end
local function ser(v) local t = type(v) if t == 'string' then return '"' .. esc(v) .. '"' elseif t == 'number' then return string.format('%.17g', v) elseif t == 'table' then local parts = {} for k, x in pairs(v) do parts[#parts + 1] = '[' .. ser(k) .. ']=' .. ser(x) end table.sort(parts) return '{' .. table.concat(parts, ',') .. '}' else return tostring(v) end end
local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end
local function keys_in_order(t) local o = {} for k in pairs(t) do o[#o + 1] = ser(k) end return table.concat(o, ',') end
local function __collect(...) local o = {} for i = 1, select('#', ...) do o[i] = ser((select(i, ...))) end return table.concat(o, ' ') end
local function __run(f) return __collect(pcall(f)) end
local function lcg(seed) local x = seed return function(n) x = (x * 16807) % 2147483647 return x % n end end
local function digest(s) local h = 0 for i = 1, #s do h = (h * 31 + s:byte(i)) % 2147483647 end return h end
