// PLACEHOLDER page: creator/MyPitches
import { Card } from "../../ui";

export default function MyPitches() {
  return <Card><h1>MyPitches</h1></Card>;
}
