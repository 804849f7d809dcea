import { murmur3Finish, murmur3Prefix } from "./src/core/murmur3";
function mm(s: string){let h=0,k=0,n=0,len=0;for(let i=0;i<s.length;i++){k|=s.charCodeAt(i)<<(n<<3);len++;if(++n===4){k=Math.imul(k,0xcc9e2d51);k=(k<<15)|(k>>>17);h^=Math.imul(k,0x1b873593);h=(h<<13)|(h>>>19);h=(Math.imul(h,5)+0xe6546b64)|0;k=0;n=0}}return h>>>0}
const p = murmur3Prefix("checkout");
const keys = Array.from({ length: 1024 }, (_, i) => "user-" + i);
for (let r = 0; r < 4; r++) {
let t = process.hrtime.bigint(); let x = 0;
for (let i = 0; i < 5_000_000; i++) x ^= murmur3Finish(p, keys[i & 1023]!);
const a = Number(process.hrtime.bigint() - t) / 5e6;
t = process.hrtime.bigint();
for (let i = 0; i < 5_000_000; i++) x ^= mm(keys[i & 1023]!);
console.log("ours", a.toFixed(1), "plain", (Number(process.hrtime.bigint() - t) / 5e6).toFixed(1));
}
